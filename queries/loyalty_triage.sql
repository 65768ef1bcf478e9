-- loyalty_triage: seed 003's triage per rung: the value quadrants (keep the key customers, develop the
--   marginal ones, recover the risky ones, let the dogs go) counted on each rung at the period end
-- params: $start DATE, $end DATE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[],
--   $owner VARCHAR[], $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE, $min_referrals INTEGER,
--   $min_orders_client INTEGER, $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE,
--   $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE, $measure VARCHAR, $abc_a DOUBLE,
--   $abc_b DOUBLE, $top_pct DOUBLE, $discount_rate DOUBLE, $horizon_years INTEGER, $marketing_cost DOUBLE,
--   $risk_cost_pct DOUBLE, $value_pct DOUBLE, $risk_measure VARCHAR, $risk_days INTEGER,
--   $risk_complaints INTEGER, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: rung, rung_rank, quadrant ('key', 'risky', 'marginal', 'dog'; NULL: no purchase yet),
--   n_customers, amt_clv_forward (their forward CLV, summed)
with dates(as_of) as (select $end::date),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_customer_measures
per_rung as (
    select rung, rung_rank, quadrant, count(*) as n_customers, sum(amt_clv_forward) as amt_clv_forward
    from measures
    group by all
)
select * from per_rung
order by rung_rank, quadrant
