-- mart_loyalty_moves: the moves of mart_loyalty_customer_moves counted per move and filter value, so that the
--   movements at the default period and settings add up a few thousand rows for any filter (loyalty_moves_mart)
-- grain: from_date, to_date, from_state, to_state (direction follows from them), segment, region, channel, owner
-- source: mart_loyalty_customer_moves
-- settings: the parameters both marts were built with (JSON, the same on every row; crmlens.model.default_moves
--   compares a query's own values of them before it reads these tables); NULL rows: none
-- params: $settings, bound by crmlens.model.build
create or replace table mart_loyalty_moves as
select from_date, to_date, from_state, to_state, direction, segment, region, channel, owner,
       count(*) as n_customers, sum(amt_revenue_step) as amt_revenue, $settings::varchar as settings
from mart_loyalty_customer_moves
group by all
order by to_date, from_state, to_state
