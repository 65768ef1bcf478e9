-- mart_customer_churn: per customer, as of the newest order day, what the churn rule and the churn page read for
--   any churn setting (kept at load, so that another number of days or multiplier, a filter, the summary or the
--   at-risk list need not go through every order day or order line again)
-- grain: customer_id (customers with an order day, plus one row without a customer id for the guest orders);
--   source: customer_gaps, customer_revenue (mart_order_days), stg_orders (the guests' lines)
--   as_of: the newest order day (model_info.spells_as_of); every figure counts up to it
--   last_order, usual_gap, usual_gap_all: customer_gaps(as_of) (NULL on the guests' row)
--   amt_12m, n_orders_12m: their revenue in the 365 days to as_of (customer_revenue: refunds lower it, as on the
--     overview and loyalty pages) and their orders then (is_order: a refund is never one)
--   amt_margin_cost_12m, amt_no_cost_12m, has_cost_12m: of that revenue, amount - cost of the lines with a cost, the
--     revenue of the lines without one, and whether any line has a cost (order_margin's parts, as the loyalty page
--     sums them: the churn summary's margin)
create or replace table mart_customer_churn as
with newest as (
    select max(order_date) as as_of from mart_customer_days
),
recent_customers as (
    select r.customer_id, r.amt_revenue as amt_12m, r.n_orders as n_orders_12m, r.amt_profit as amt_margin_cost_12m,
           r.amt_revenue_no_cost as amt_no_cost_12m, r.amt_profit is not null as has_cost_12m
    from customer_revenue((select as_of from newest) - 364, (select as_of from newest)) r
    where in_build_scope(r.customer_id)
),
recent_guests as (
    -- the guests' lines (no customer id: not in mart_order_days), by the same rule
    select null::varchar as customer_id, sum(o.amt_revenue) as amt_12m, count(*) filter (where o.is_order) as n_orders_12m,
           sum(o.amt_revenue - o.cost) as amt_margin_cost_12m,
           sum(o.amt_revenue) filter (where o.cost is null) as amt_no_cost_12m, count(o.cost) > 0 as has_cost_12m
    from stg_orders o
    where o.customer_id is null and not o.is_void
      and o.order_date > (select as_of from newest) - 365 and o.order_date <= (select as_of from newest)
      and in_build_scope(o.customer_id)
    having count(*) > 0
),
recent as (
    select * from recent_customers union all select * from recent_guests
)
select coalesce(g.customer_id, r.customer_id) as customer_id, (select as_of from newest) as as_of,
       g.last_order, g.usual_gap, g.usual_gap_all,
       r.amt_12m, coalesce(r.n_orders_12m, 0) as n_orders_12m,
       r.amt_margin_cost_12m, r.amt_no_cost_12m, coalesce(r.has_cost_12m, false) as has_cost_12m
from customer_gaps((select as_of from newest)) g
full join recent r on r.customer_id = g.customer_id
where in_build_scope(coalesce(g.customer_id, r.customer_id))  -- an append: its customers only (guests' row: whole)
