-- complaints_churn: churn of complainers versus others, and of complainers by category and by resolution band, with the revenue lost
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $closed_statuses VARCHAR[], $category VARCHAR[], $severity VARCHAR[], $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[], $owner VARCHAR[], $start DATE, $end DATE, $non_revenue_statuses VARCHAR[], $gap_multiple DOUBLE, $churn_days INTEGER, $revenue_days INTEGER
-- returns: kind ('all', 'category' or 'band'), grp ('complainers'/'others', a category, or a band number as text),
--   n_customers, n_churned, rate_churn, amt_revenue_lost (NULL for others; completed-order revenue of churned complainers in the $revenue_days days before their first complaint)
with cat_map as (
    select unnest($category_aliases) as alias, unnest($category_keys) as category_key
),
as_of as (
    -- "now" for open complaints: the newest timestamp in the complaints table (the export time)
    select max(greatest(created_at, coalesce(first_response_at, created_at), coalesce(resolved_at, created_at))) as as_of_at
    from complaints
),
all_k as (
    select k.complaint_id, k.customer_id, k.created_at, k.first_response_at, k.resolved_at, k.satisfaction,
           coalesce(m.category_key, nullif(regexp_replace(lower(trim(k.category)), '[\s_-]+', ' ', 'g'), '')) as category,
           nullif(lower(trim(k.severity)), '') as severity,
           nullif(lower(trim(k.channel)), '') as channel,
           k.resolved_at is null and not list_contains($closed_statuses, lower(trim(coalesce(k.status, '')))) as is_open,
           date_diff('second', k.created_at, k.first_response_at) / 3600.0 as hours_to_response,
           date_diff('second', k.created_at, k.resolved_at) / 3600.0 as hours_to_resolve,
           date_diff('second', k.created_at, (select as_of_at from as_of)) / 3600.0 as hours_open,
           null::double as sla_hours,
           cu.region, cu.segment, cu.owner as account_owner
    from complaints k
    left join cat_map m on m.alias = regexp_replace(lower(trim(k.category)), '[\s_-]+', ' ', 'g')
    left join customers cu on cu.customer_id = k.customer_id
),
fk as (
    -- customer filters; `matches` = the complaint filters
    select *,
           (len($category) = 0 or list_contains($category, category))
           and (len($severity) = 0 or list_contains($severity, severity))
           and (len($complaint_channel) = 0 or list_contains($complaint_channel, channel)) as matches,
           case when hours_to_resolve is not null then hours_to_resolve > sla_hours
                when is_open and hours_open > sla_hours then true end as is_breached,  -- NULL: not judged yet
           case when hours_to_resolve is not null then len(list_filter($band_hours, x -> x < hours_to_resolve))
                when is_open then -1 else -2 end as band
    from all_k
    where (len($region) = 0 or list_contains($region, region))
      and (len($segment) = 0 or list_contains($segment, segment))
      and (len($owner) = 0 or list_contains($owner, account_owner))
),
pk as (
    select * from fk where matches and created_at >= $start and created_at < $end + interval 1 day
),
done_orders as materialized (
    select customer_id, order_date, amount
    from orders
    where not list_contains($non_revenue_statuses, lower(trim(coalesce(status, ''))))
),
ref as (
    -- churn is judged at the newest completed order in the data
    select max(order_date) as ref_date from done_orders
),
order_gaps as (
    select customer_id, order_date,
           date_diff('day', lag(order_date) over (partition by customer_id order by order_date), order_date) as gap_days
    from done_orders
    where $gap_multiple > 0  -- the gap rule off: skip the per-customer sort
),
buyers as (
    select d.customer_id, min(order_date) as first_order, max(order_date) as last_order,
           min(order_date) filter (where order_date between $start and $end) as first_order_in_period,
           any_value(m.median_gap_days) as median_gap_days
    from done_orders d
    left join (select customer_id, median(gap_days) as median_gap_days from order_gaps group by 1) m using (customer_id)
    group by d.customer_id
),
status as (
    -- lost: a contract end date on or before the reference date; else an explicit churned flag; else no completed
    -- order for max($churn_days, $gap_multiple x the customer's median gap between orders) days
    select b.*, cu.region, cu.segment, cu.owner,
           greatest($churn_days, $gap_multiple * coalesce(b.median_gap_days, 0)) as threshold_days,
           case when cu.churn_date is not null then cu.churn_date <= r.ref_date
                when cu.churned is not null then cu.churned
                else b.last_order < r.ref_date - cast(ceil(greatest($churn_days, $gap_multiple * coalesce(b.median_gap_days, 0))) as integer)
           end as is_churned,
           case when cu.churn_date is not null and cu.churn_date <= r.ref_date then cu.churn_date else b.last_order end as lost_date,
           r.ref_date
    from buyers b cross join ref r
    left join customers cu on cu.customer_id = b.customer_id
    where b.first_order <= $end
      and (len($region) = 0 or list_contains($region, cu.region))
      and (len($segment) = 0 or list_contains($segment, cu.segment))
      and (len($owner) = 0 or list_contains($owner, cu.owner))
),
any_complaint as (
    -- customers with any complaint in the period (whatever the complaint filters)
    select distinct customer_id from fk
    where customer_id is not null and created_at >= $start and created_at < $end + interval 1 day
),
first_complaint as (
    -- each complainer once, under their first matching complaint in the period
    select customer_id, min(created_at) as first_at,
           arg_min(category, created_at) as category,
           arg_min(band, created_at) as band,
           arg_min(coalesce(hours_to_resolve, case when is_open then hours_open end), created_at) as hours_to_resolve_or_open,
           arg_min(is_open, created_at) as is_unresolved,
           arg_min(coalesce(is_breached, false), created_at) as is_breached
    from pk where customer_id is not null
    group by customer_id
),
population as materialized (
    -- complainers, and others: customers with a completed order in the period and no complaint in it
    select s.*, f.first_at, f.category, f.band, f.hours_to_resolve_or_open, f.is_unresolved, f.is_breached,
           case when f.customer_id is not null then 'complainers' else 'others' end as grp,
           case when f.customer_id is not null then f.first_at::date else s.first_order_in_period end as origin
    from status s
    left join first_complaint f on f.customer_id = s.customer_id
    where f.customer_id is not null
       or (s.first_order_in_period is not null and s.customer_id not in (select customer_id from any_complaint))
),
revenue_before as (
    select p.customer_id, sum(o.amount) as amt_revenue
    from population p join done_orders o on o.customer_id = p.customer_id
    where p.grp = 'complainers' and p.is_churned
      and o.order_date >= p.first_at::date - cast($revenue_days as integer) and o.order_date < p.first_at::date
    group by p.customer_id
),
rows as (
    select p.grp, p.category, p.band, p.is_churned, coalesce(r.amt_revenue, 0) as amt_revenue
    from population p left join revenue_before r on r.customer_id = p.customer_id
)
select 'all' as kind, grp, count(*) as n_customers, count(*) filter (where is_churned) as n_churned,
       avg(is_churned::int) as rate_churn, case when grp = 'complainers' then sum(amt_revenue) end as amt_revenue_lost
from rows group by grp
union all
select 'category', category, count(*), count(*) filter (where is_churned), avg(is_churned::int), sum(amt_revenue)
from rows where grp = 'complainers' group by category
union all
select 'band', band::varchar, count(*), count(*) filter (where is_churned), avg(is_churned::int), sum(amt_revenue)
from rows where grp = 'complainers' group by band
order by kind, n_customers desc, grp
