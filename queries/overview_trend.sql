-- overview_trend: revenue, orders and new customers per period bucket
-- params: $start DATE, $end DATE (inclusive), $grain VARCHAR ('day', 'week' or 'month')
-- returns: one row per bucket in the range, gaps filled with zero:
--   bucket_start, amt_revenue, n_orders, n_new_customers, first_day, last_day (the days of the bucket the
--   period and the orders' data span cover), is_complete (the bucket covered whole: not cut by the period's
--   dates nor by the first or last order date in the data)
with first_purchase as (
    -- each customer's first order (a guest order is no customer)
    select customer_id, first_order_on as first_ordered_at from mart_customers where first_order_on is not null
),
buckets as (
    select bucket_start,
           (bucket_start + case $grain when 'month' then interval 1 month when 'week' then interval 7 day
                                       else interval 1 day end)::date - 1 as bucket_end
    from (select distinct date_trunc($grain, d::date)::date as bucket_start
          from range($start::date, $end::date + 1, interval 1 day) as r(d))
),
data_span as (
    select min(order_date) as first_order, max(order_date) as last_order from mart_order_dates
),
revenue as (
    -- revenue (refunds subtract, cancelled lines count for nothing) and orders per day (mart_order_dates)
    select date_trunc($grain, order_date)::date as bucket_start, sum(amt_revenue) as amt_revenue,
           sum(n_orders)::bigint as n_orders
    from mart_order_dates
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
       coalesce(n.n_new_customers, 0) as n_new_customers,
       greatest(b.bucket_start, $start::date, coalesce(s.first_order, b.bucket_start)) as first_day,
       least(b.bucket_end, $end::date, coalesce(s.last_order, b.bucket_end)) as last_day,
       greatest(b.bucket_start, $start::date, coalesce(s.first_order, b.bucket_start)) = b.bucket_start
           and least(b.bucket_end, $end::date, coalesce(s.last_order, b.bucket_end)) = b.bucket_end as is_complete
from buckets b
cross join data_span s
left join revenue r using (bucket_start)
left join new_customers n using (bucket_start)
order by b.bucket_start
