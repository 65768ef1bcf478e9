-- mart_customer_months: one row per customer and calendar month with an order (the monthly roll-up of mart_customer_days)
-- grain: customer_id, month; source: mart_customer_days (stg_orders.is_order)
--   month: the month's first day
--   n_orders, n_order_days, amount: the customer's orders that month, the days with one, and what they were worth
--   retained_bits: bit j (0-11) is set when the customer also bought in the 12 months before the 12 months that end
--                  j months after this one (months month + j - 23 .. month + j - 12): this month's amount is then
--                  revenue kept in the net revenue retention of the period ending in month + j (churn_bucket)
create or replace table mart_customer_months as
with months as (
    select customer_id, date_trunc('month', order_date)::date as month,
           sum(n_orders)::bigint as n_orders, count(*)::bigint as n_order_days, sum(amount) as amount
    from mart_customer_days
    group by all
),
numbered as (
    select *, year(month) * 12 + month(month) as month_no from months
)
select customer_id, month, n_orders, n_order_days, amount,
       -- an earlier month d months back (1-23) sets bits max(0, 12 - d) .. min(11, 23 - d)
       coalesce(list_reduce(list_transform(list(month_no) over earlier,
                                           p -> (1 << (least(11, 23 - (month_no - p)) + 1))
                                                - (1 << greatest(0, 12 - (month_no - p)))),
                            (a, b) -> a | b), 0)::integer as retained_bits
from numbered
window earlier as (partition by customer_id order by month_no range between 23 preceding and 1 preceding)
