-- complaints_churn_survival: days from the first complaint (complainers) or first order in the period
--   (others) to the last order of lost customers, for Kaplan-Meier and the log-rank test; customers still
--   buying are censored at the reference date
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $churn_multiplier DOUBLE, $churn_days INTEGER,
--   $use_spells_mart BOOLEAN,
--   $complaint_rule_mart BOOLEAN, $complaint_period_mart BOOLEAN (set by crmlens.model)
-- returns: grp ('complainers' or 'others'), t (days), n_event (lost at t), n_censored
-- include: complaints_scope
-- include: complaints_churn_base
select grp,
       greatest(0, case when is_churned then date_diff('day', origin, lost_date) else date_diff('day', origin, ref_date) end) as t,
       coalesce(sum(n) filter (where is_churned), 0)::bigint as n_event,  -- n: the customers a row stands for
       coalesce(sum(n) filter (where not is_churned), 0)::bigint as n_censored
from population
where is_churned is not null
group by all
order by grp, t
