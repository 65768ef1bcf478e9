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
-- params: the loyalty queries' defaults (crmlens.loyalty.params) at the default period ($start, $end: as_of of
--   mart_customer_period and the 364 days before), and $settings, bound by crmlens.model.build
create or replace table mart_loyalty_customers as
with dates(as_of) as (select $end::date),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_customer_measures
kept as (
    select *, $settings::varchar as settings from measures
)
select * from kept
