-- loyalty_flow_customers: one page of the customers who moved from one ladder state to another between two
--   dates
-- params: $start DATE, $end DATE (read by the shared rung block; only the two dates matter here),
--   $from_date DATE, $to_date DATE, $from_state VARCHAR ('new', a rung or 'lost'), $to_state VARCHAR,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[], $use_partner_flag BOOLEAN,
--   $nps_advocate_min DOUBLE, $min_referrals INTEGER, $min_orders_client INTEGER, $satisfaction_min DOUBLE,
--   $nps_supporter_min DOUBLE, $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $limit INTEGER, $offset INTEGER, $use_spells_mart BOOLEAN (set by crmlens.model)
-- At the default period and settings, for two dates next to each other there (crmlens.model.default_moves), the
--   customers come from mart_loyalty_customer_moves, where the filters still apply.
-- returns: customer_id, name, from_rung, to_rung (where the customer stood at each date as the ladder shows
--   it: a rung, 'lost' for a customer who had left, 'new' before we knew them), amt_revenue_between (revenue
--   dated after from_date up to to_date, refunds netted, 0 when nothing), n_orders, last_ordered_at, segment,
--   channel, owner, from_state, to_state, latest_satisfaction, latest_nps, n_unresolved, n_referrals,
--   n_matching
with dates(as_of) as (
    select distinct d from unnest([$from_date::date, $to_date::date]) as t(d)
),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_flow_page
shown as (
    select * from flow_page
)
select * from shown
order by amt_revenue_between desc, customer_id
