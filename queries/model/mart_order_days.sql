-- mart_order_days: one row per customer and day with an order line that counts (not void: orders and refunds),
--   the facts the loyalty page's period, lifetime and margin figures sum (loyalty_rung_inputs_end reads it)
-- grain: customer_id, order_date; source: stg_orders (is_void, is_order, amt_revenue, cost)
--   n_orders: the day's purchases (is_order; a refund line is never one)
--   amt_revenue: what the day's lines add to revenue (refunds lower it)
--   amt_profit: the day's amount - cost over the lines that have a cost (NULL when none has one)
--   amt_revenue_no_cost: the day's revenue of the lines without a cost (NULL when every line has one)
--   order_margin over the day's lines is then amt_revenue x a typed rate, else
--   amt_profit + amt_revenue_no_cost x the fallback rate (the same rule, summed per day)
create or replace table mart_order_days as
select customer_id, order_date,
       count(*) filter (where is_order) as n_orders,
       sum(amt_revenue) as amt_revenue,
       sum(amt_revenue - cost) as amt_profit,
       sum(amt_revenue) filter (where cost is null) as amt_revenue_no_cost
from stg_orders
where not is_void and customer_id is not null and order_date is not null and in_build_scope(customer_id)
group by customer_id, order_date
