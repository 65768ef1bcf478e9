-- mart_customer_months: one row per customer and calendar month with an order line that counts (an order or a refund;
--   the monthly roll-up of mart_order_days)
-- grain: customer_id, month; source: mart_order_days (stg_orders.is_order, amt_revenue)
--   month: the month's first day
--   n_orders, n_order_days: the customer's orders that month and the days with one (0 on a month with a refund only:
--                  such a month makes nobody active, starts no cohort and keeps nobody)
--   amt_revenue: what the customer's lines that month add to revenue (refunds lower it: customer_revenue's rule)
--   retained_bits: bit j (0-11) is set when the customer also bought (an order) in the 12 months before the 12 months
--                  that end j months after this one (months month + j - 23 .. month + j - 12): this month's revenue is
--                  then revenue kept in the net revenue retention of the period ending in month + j (churn_bucket)
create or replace table mart_customer_months as
with months as (
    select customer_id, date_trunc('month', order_date)::date as month,
           sum(n_orders)::bigint as n_orders, (count(*) filter (where n_orders > 0))::bigint as n_order_days,
           sum(amt_revenue) as amt_revenue
    from mart_order_days
    where in_build_scope(customer_id)
    group by all
),
numbered as (
    select *, year(month) * 12 + month(month) as month_no from months
),
gaps as (
    -- near: months back to the customer's oldest order month within the last 11 (0: none);
    -- far: months back to their latest order month 12 or more months back (NULL: none) (months with an order only)
    select *,
           coalesce(month_no - min(month_no) filter (where n_orders > 0)
                                             over (partition by customer_id order by month_no
                                                   range between 11 preceding and 1 preceding), 0) as near,
           month_no - max(month_no) filter (where n_orders > 0)
                                    over (partition by customer_id order by month_no
                                          range between unbounded preceding and 12 preceding) as far
    from numbered
)
-- Bit j asks for an order 12 - j .. 23 - j months back: a window of 12 months starting at most 12 months back. Such
-- a window is empty only inside the stretch without orders between `near` and `far` months back (a stretch that
-- begins further back than 11 months cannot hold it), so bits max(0, 24 - far) .. 11 - near are clear, the others set.
select customer_id, month, n_orders, n_order_days, amt_revenue,
       (4095 - if(greatest(0, 24 - coalesce(far, 24)) <= 11 - near,
                  (1 << (12 - near)) - (1 << greatest(0, 24 - coalesce(far, 24))), 0))::integer as retained_bits
from gaps
