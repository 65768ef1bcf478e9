-- mart_loyalty_customers: each customer's loyalty measures at the default period with the page's default settings,
--   kept at load so that the ladder summary, the customer table and triage read a ready table when the page opens
--   as it does (crmlens.model.default_measures says "default": loyalty_measures_mart reads this table instead of working
--   out the rungs, ABC classes, RFM scores, quadrants and CLV per query; any other period, setting or filter works
--   them out as before)
-- grain: customer_id, every customer known by the period end (the rows of loyalty_customer_measures' `measures`);
--   source: the pieces the queries run at the default period (loyalty_rung_inputs_end with
--   loyalty_order_facts_period, loyalty_rung_rules, loyalty_customer_measures), so the figures are theirs
--   settings: the parameters it was built with (JSON, the same on every row; crmlens.model compares a query's own
--   values of them before it reads this table)
-- On an order append (crmlens.model: UPDATED_BY_KEY, its global inputs unchanged) only the customers in the build's
--   scope get their rung facts worked out again (in_build_scope); every other customer's are read back from this table
--   (the piece loyalty_states_kept, swapped in for loyalty_states_all: temp table _loyalty_states_kept, the
--   columns of rung_states), and the measures that rank everybody (ABC, RFM, quadrants, CLV) are worked out again for
--   all, as in a full build (model 26).
-- params: the loyalty queries' defaults (crmlens.loyalty.params) at the default period ($start, $end: as_of of
--   mart_customer_period and the 364 days before), and $settings, bound by crmlens.model.build
create or replace table mart_loyalty_customers as
with rung_states as (
    with dates(as_of) as (select $end::date),
    -- include: loyalty_rung_inputs
    -- include: loyalty_rung_rules
    in_scope as (
        select * from rung_states where in_build_scope(customer_id)
    )
    select * from in_scope
    -- include: loyalty_states_all
),
-- include: loyalty_customer_measures
kept as (
    select *, $settings::varchar as settings from measures
)
select * from kept
