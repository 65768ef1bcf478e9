-- mart_customer_period: each customer's order facts at the default period of the pages (the 365 days up to the
--   newest date in the data, crmlens.period.default_period), kept at load for the loyalty summary, customer table and
--   triage (loyalty_order_facts_period reads it when the page shows that period; any other period sums
--   mart_order_days per query)
-- grain: customer_id (customers with a counting order line up to as_of); source: mart_order_days, and the newest date
--   of orders, opportunities, stage history, complaints and surveys (signups only if none: as data_span)
--   as_of: that newest date; every figure counts order days up to it
--   n_orders, last_ordered_at, amt_revenue, amt_profit, amt_revenue_no_cost: up to as_of (mart_order_days' figures)
--   *_period, last_ordered_in_period: in the 365 days up to as_of (the period and the year the CLV reads)
create or replace table mart_customer_period as
with newest as (
    select coalesce(greatest((select max(order_date) from stg_orders), (select max(effective_created) from stg_opportunities),
                             (select max(entered_at)::date from stg_opportunity_stage_history),
                             (select max(created_at)::date from stg_complaints), (select max(survey_date) from stg_surveys)),
                    (select max(signup_date) from stg_customers)) as as_of
)
select d.customer_id, n.as_of,
       sum(d.n_orders)::bigint as n_orders,
       max(d.order_date) filter (where d.n_orders > 0) as last_ordered_at,
       sum(d.amt_revenue) as amt_revenue,
       sum(d.amt_profit) as amt_profit,
       sum(d.amt_revenue_no_cost) as amt_revenue_no_cost,
       (sum(d.n_orders) filter (where d.order_date > n.as_of - 365))::bigint as n_orders_period,
       sum(d.amt_revenue) filter (where d.order_date > n.as_of - 365) as amt_revenue_period,
       sum(d.amt_profit) filter (where d.order_date > n.as_of - 365) as amt_profit_period,
       sum(d.amt_revenue_no_cost) filter (where d.order_date > n.as_of - 365) as amt_revenue_no_cost_period,
       max(d.order_date) filter (where d.n_orders > 0 and d.order_date > n.as_of - 365) as last_ordered_in_period
from mart_order_days d
cross join newest n
where d.order_date <= n.as_of and in_build_scope(d.customer_id)
group by d.customer_id, n.as_of
