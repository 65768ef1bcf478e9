-- mart_loyalty_moves: the moves of mart_loyalty_customer_moves counted, so that the movements at the default period
--   and settings, unfiltered (the page as it opens), read a few hundred rows (loyalty_moves_mart; with a filter it
--   counts the customer moves of the customers in the filter)
-- grain: from_date, to_date, from_state, to_state (direction follows from them)
-- source: mart_loyalty_customer_moves
-- settings: the parameters both marts were built with (JSON, the same on every row; crmlens.model.default_moves
--   compares a query's own values of them before it reads these tables)
-- params: $settings, bound by crmlens.model.build
create or replace table mart_loyalty_moves as
select from_date, to_date, from_state, to_state, direction,
       count(*) as n_customers, sum(amt_revenue_step) as amt_revenue, $settings::varchar as settings
from mart_loyalty_customer_moves
group by all
