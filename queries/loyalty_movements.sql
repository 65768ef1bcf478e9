-- loyalty_movements: flows between ladder states from each period end (month or quarter) to the next, within
--   the period
-- params: $start DATE, $end DATE, $grain VARCHAR ('month'|'quarter'), $segment VARCHAR[], $region VARCHAR[],
--   $channel VARCHAR[], $owner VARCHAR[], $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE,
--   $min_referrals INTEGER, $min_orders_client INTEGER, $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE,
--   $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $use_spells_mart BOOLEAN (set by crmlens.model)
-- At the default period and settings (crmlens.model.default_moves) the counts come from mart_loyalty_moves, where the
--   filters still apply.
-- returns: from_date, to_date, from_state ('new' = not known at from_date; a rung; 'lost' = lost by the churn
--   rule), to_state,
-- direction ('joined', 'climbed', 'stayed', 'fell', 'left', 'returned'), n_customers, amt_revenue (their
--     revenue after from_date up to to_date)
with
-- include: loyalty_step_dates
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_customer_moves
-- include: loyalty_moves_counted
shown as (
    select from_date, to_date, from_state, to_state, direction, n_customers, amt_revenue from moves_counted
)
select * from shown
order by to_date, from_state, to_state
