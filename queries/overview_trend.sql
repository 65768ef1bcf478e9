-- overview_trend: revenue, orders and new customers per period bucket
-- params: $start DATE, $end DATE (inclusive), $grain VARCHAR ('day', 'week' or 'month')
-- returns: one row per bucket in the range, gaps filled with zero:
--   bucket_start, amt_revenue, n_orders, n_new_customers
with revenue_orders as materialized (
    -- include: revenue_orders
),
first_purchase as (
    select customer_id, min(order_date) as first_ordered_at from revenue_orders
    where is_order and customer_id is not null group by 1  -- a guest order is no customer
),
buckets as (
    select distinct date_trunc($grain, d::date)::date as bucket_start
    from range($start::date, $end::date + 1, interval 1 day) as r(d)
),
revenue as (
    select date_trunc($grain, order_date)::date as bucket_start, sum(amount) as amt_revenue, count(*) filter (where is_order) as n_orders
    from revenue_orders
    where order_date between $start and $end
    group by 1
),
new_customers as (
    select date_trunc($grain, first_ordered_at)::date as bucket_start, count(*) as n_new_customers
    from first_purchase
    where first_ordered_at between $start and $end
    group by 1
)
select b.bucket_start,
       coalesce(r.amt_revenue, 0) as amt_revenue,
       coalesce(r.n_orders, 0) as n_orders,
       coalesce(n.n_new_customers, 0) as n_new_customers
from buckets b
left join revenue r using (bucket_start)
left join new_customers n using (bucket_start)
order by b.bucket_start
