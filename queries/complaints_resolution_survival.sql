-- complaints_resolution_survival: time to resolution for Kaplan-Meier, open complaints censored at the as-of
--   time
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE
-- returns: t (hours, to the minute), n_event (resolved at t), n_censored (still open after t)
-- include: complaints_scope
select round(coalesce(hours_to_resolve, hours_open) * 60) / 60 as t,
       count(*) filter (where hours_to_resolve is not null) as n_event,
       count(*) filter (where hours_to_resolve is null) as n_censored
from pk
where hours_to_resolve is not null or is_open
group by 1
order by 1
