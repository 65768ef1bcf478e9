-- mart_customer_churn: per customer, as of the newest order day, what the churn rule and the churn page read for
--   any churn setting (kept at load, so that another number of days or multiplier, a filter, the summary or the
--   at-risk list need not go through every order day or order line again)
-- grain: customer_id (customers with an order day, plus one row without a customer id for the guest orders);
--   source: customer_gaps, mart_customer_days, stg_orders (is_order)
--   as_of: the newest order day (model_info.spells_as_of); every figure counts up to it
--   last_order, usual_gap, usual_gap_all: customer_gaps(as_of) (NULL on the guests' row)
--   amt_12m, n_orders_12m: their orders (is_order lines) in the 365 days to as_of: what they were worth, how many
--     (the customers' summed from mart_customer_days, the guests' from the lines)
--   amt_margin_cost_12m, amt_no_cost_12m, n_cost_12m: of those lines, amount - cost of the lines with a cost, the
--     amount of the lines without one, and how many have one (order_margin's parts: the churn summary's margin)
create or replace table mart_customer_churn as
with newest as (
    select max(order_date) as as_of from mart_customer_days
),
recent_days as (
    -- (summed by day, as the at-risk list summed them, so that equal values stay equal to the last bit)
    select customer_id, sum(amount) as amt_12m, sum(n_orders)::bigint as n_orders_12m
    from mart_customer_days
    where order_date > (select as_of from newest) - 365 and in_build_scope(customer_id)
    group by customer_id
),
recent_lines as (
    select o.customer_id, sum(o.amount) as amt_12m, count(*) as n_orders_12m,
           sum(o.amount - o.cost) filter (where o.cost is not null) as amt_margin_cost_12m,
           sum(o.amount) filter (where o.cost is null) as amt_no_cost_12m, count(o.cost) as n_cost_12m
    from stg_orders o
    where o.is_order and o.order_date > (select as_of from newest) - 365 and o.order_date <= (select as_of from newest)
      and in_build_scope(o.customer_id)
    group by o.customer_id
)
select coalesce(g.customer_id, r.customer_id) as customer_id, (select as_of from newest) as as_of,
       g.last_order, g.usual_gap, g.usual_gap_all,
       coalesce(d.amt_12m, r.amt_12m) as amt_12m, coalesce(d.n_orders_12m, r.n_orders_12m, 0) as n_orders_12m,
       r.amt_margin_cost_12m, r.amt_no_cost_12m, coalesce(r.n_cost_12m, 0) as n_cost_12m
from customer_gaps((select as_of from newest)) g
left join recent_days d on d.customer_id = g.customer_id
full join recent_lines r on r.customer_id = g.customer_id
where in_build_scope(coalesce(g.customer_id, r.customer_id))  -- an append: its customers only (guests' row: whole)
