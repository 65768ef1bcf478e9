-- mart_loyalty_moves: the moves of mart_loyalty_customer_moves counted per move and filter value, so that the
--   movements at the default period and settings add up a few thousand rows for any filter (loyalty_moves_mart)
-- grain: from_date, to_date, from_state, to_state (direction follows from them), segment, region, channel, owner
-- source: mart_loyalty_customer_moves, stg_customers (the filter values, joined as loyalty_rung_rules joins them)
-- settings: the parameters both marts were built with (JSON, the same on every row; crmlens.model.default_moves
--   compares a query's own values of them before it reads these tables); NULL rows: none
-- params: $settings, bound by crmlens.model.build
create or replace table mart_loyalty_moves as
select m.from_date, m.to_date, m.from_state, m.to_state, m.direction, c.segment, c.region, c.channel, c.owner,
       count(*) as n_customers, sum(m.amt_revenue_step) as amt_revenue, $settings::varchar as settings
from mart_loyalty_customer_moves m
left join (select customer_id, segment, region, channel, owner from stg_customers) c using (customer_id)
group by all
order by to_date, from_state, to_state
