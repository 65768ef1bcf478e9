-- shared piece complaints_churn_base: per-customer orders and churn state for the link between complaints
-- and churn (follows complaints_scope)
,
done_orders as (
    -- completed orders, one row per customer and order day (order_days, kept by every load)
    select customer_id, order_date, amount, gap_before from order_days
),
ref as (
    -- churn is judged at the newest completed order in the data
    select max(order_date) as ref_date from done_orders
),
order_gaps as (
    select customer_id, order_date, gap_before as gap_days
    from done_orders
    where $gap_multiple > 0 and gap_before is not null
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
)
