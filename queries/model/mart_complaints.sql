-- mart_complaints: one row per complaint with what every complaints query reads of it, worked out at load (the
--   category's matching form, times in hours, the customer's attributes), so that a query reads one small table
-- grain: complaint (a row of stg_complaints); source: stg_complaints, stg_customers, mart_customers, mart_order_days
--   category_name: the category as the queries match it against the names of crmlens.complaints.CATEGORIES (lower
--     case, trimmed, runs of space, _ and - as one space; '' when blank)
--   severity, channel: lower case, trimmed, NULL when blank
--   is_open: not stg_complaints.is_closed
--   hours_to_response, hours_to_resolve: from created_at; hours_open: from created_at to as_of_at, the newest time in
--     the complaints (the export time: "now" for open complaints)
--   region, segment, account_owner, customer_name: the customer's, from the customer list (NULL when not on it)
--   is_known_customer: the customer id is one mart_customers knows (NULL without a customer id)
--   amt_revenue_before: the customer's revenue (revenue_before: refunds lower it) in the $revenue_days days before the
--     complaint's day (NULL: none; complaints_churn's revenue of lost complainers at its default), revenue_days: those
--     days (the same on every row)
--   complaint_row: the whole row as loaded (optional columns kept from the file are read by name)
-- params: $revenue_days INTEGER (crmlens.complaints.DEFAULTS)
create or replace table mart_complaints as
with as_of as (
    select max(greatest(created_at, coalesce(first_response_at, created_at), coalesce(resolved_at, created_at))) as as_of_at
    from stg_complaints
),
complaint_days as (
    select distinct customer_id, created_at::date as created_on
    from stg_complaints
    where customer_id is not null and in_build_scope(customer_id)
),
revenue_before as (
    select k.customer_id, k.created_on, revenue_before(d.days, k.created_on, cast($revenue_days as integer)) as amt_revenue
    from complaint_days k
    join mart_customer_revenue_days d on d.customer_id = k.customer_id
)
select k.complaint_id, k.customer_id, k.created_at, k.first_response_at, k.resolved_at, k.satisfaction,
       regexp_replace(lower(trim(k.category)), '[\s_-]+', ' ', 'g') as category_name,
       nullif(lower(trim(k.severity)), '') as severity,
       nullif(lower(trim(k.channel)), '') as channel,
       not k.is_closed as is_open,
       date_diff('second', k.created_at, k.first_response_at) / 3600.0 as hours_to_response,
       date_diff('second', k.created_at, k.resolved_at) / 3600.0 as hours_to_resolve,
       date_diff('second', k.created_at, a.as_of_at) / 3600.0 as hours_open,
       a.as_of_at,
       cu.region, cu.segment, cu.owner as account_owner, cu.name as customer_name,
       k.customer_id in (select customer_id from mart_customers) as is_known_customer,
       r.amt_revenue as amt_revenue_before, cast($revenue_days as integer) as revenue_days,
       k as complaint_row
from stg_complaints k
cross join as_of a
left join stg_customers cu on cu.customer_id = k.customer_id
left join revenue_before r on r.customer_id = k.customer_id and r.created_on = k.created_at::date
where in_build_scope(k.customer_id)  -- an append: the complaints of its customers only (none without a customer id)
