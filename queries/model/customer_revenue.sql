-- customer_revenue(first_day, last_day): THE revenue of each customer over the days first_day .. last_day (both
-- included), the one definition the churn page (12-month revenue, at-risk value, what-if), the complaints and funnel
-- pages and the loyalty and overview pages (which sum the same mart_order_days / stg_orders.amt_revenue) share:
-- One row per customer with an order line that counts (an order or a refund, not a void one) in the window:
--   n_orders: their orders (stg_orders.is_order; a refund is never one)
--   amt_revenue: what their lines add to revenue (stg_orders.amt_revenue): refunds, on their own day, lower it
--   amt_profit, amt_revenue_no_cost: the margin's parts as mart_order_days keeps them (amount - cost of the lines with
--     a cost, revenue of the lines without one): order_margin summed is amt_profit + fallback x amt_revenue_no_cost
create or replace macro customer_revenue(first_day, last_day) as table
select customer_id, sum(n_orders)::bigint as n_orders, sum(amt_revenue) as amt_revenue,
       sum(amt_profit) as amt_profit, sum(amt_revenue_no_cost) as amt_revenue_no_cost
from mart_order_days
where order_date >= first_day::date and order_date <= last_day::date
group by customer_id
