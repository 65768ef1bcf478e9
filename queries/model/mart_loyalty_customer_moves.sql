-- mart_loyalty_customer_moves: each customer's move between ladder states from one month end to the next over the
--   default period, with the page's default settings, kept at load so that the movements (mart_loyalty_moves counts
--   these rows) and the customers behind a flow read a ready table when the page opens as it does
--   (crmlens.model.default_moves says "moves": loyalty_movements and loyalty_flow_customers read the marts instead of
--   working out the rung of every customer at every date; any other period, grain or setting works them out as before;
--   the filters apply when a query runs, from stg_customers: a customer's segment, region, channel and owner are not
--   kept here, which would cost a third of the build)
-- grain: customer_id, to_date: every customer known by to_date, for each date of loyalty_step_dates at the default
--   period and grain month but the first (the month end before the period, from_date of the first move)
-- source: the pieces loyalty_movements runs at the default period (loyalty_step_dates, loyalty_rung_inputs_mart reading
--   mart_loyalty_months, loyalty_rung_rules, loyalty_customer_moves), so the figures are theirs. Empty when those
--   dates are not all kept in mart_loyalty_months ($settings NULL: crmlens.model._build_params).
-- params: the loyalty queries' defaults (crmlens.loyalty.params) at the default period ($start, $end: as_of of
--   mart_customer_period and the 364 days before), grain month, and $settings, bound by crmlens.model.build
create or replace table mart_loyalty_customer_moves as
with
-- include: loyalty_step_dates
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_customer_moves
kept as (
    select customer_id, from_date, to_date, from_state, to_state, direction, amt_revenue_step
    from customer_moves
    where $settings::varchar is not null and in_build_scope(customer_id)
)
select * from kept
order by to_date
