-- future_value_rungs: each customer's rung and state on the loyalty ladder at the period end, with their
--   segment, for the future-value sums per rung and segment (the page's filters apply)
-- params: $start DATE, $end DATE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[],
--   $owner VARCHAR[], $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE, $min_referrals INTEGER,
--   $min_orders_client INTEGER, $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE,
--   $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, rung, state (the rung, or 'lost'), segment
with dates(as_of) as (select $end::date),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
placed as (
    select customer_id, rung, state, segment from rung_states
)
select * from placed order by customer_id
