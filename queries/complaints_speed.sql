-- complaints_speed: response and resolution times and SLA breaches, in total and per severity
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE
-- returns: level ('all' or 'severity'), severity, sla_hours, n_complaints, n_responded, n_resolved, n_open,
--   n_closed_no_time, n_sla_given (of them with the export's own SLA verdict, which decides their breach),
-- median_hours_to_response, p90_hours_to_response, median_hours_to_resolve, p90_hours_to_resolve (resolved
--     only),
-- n_breached, n_open_breached, n_decided (resolved, or open past the SLA), rate_breach (n_breached /
--     n_decided), max_hours_open
-- include: complaints_scope
select case when grouping(severity) = 0 then 'severity' else 'all' end as level,
       severity,
       case when grouping(severity) = 0 then any_value(sla_hours) end as sla_hours,
       count(*) as n_complaints,
       count(hours_to_response) as n_responded,
       count(hours_to_resolve) as n_resolved,
       count(*) filter (where is_open) as n_open,
       count(*) filter (where resolved_at is null and not is_open) as n_closed_no_time,
       count(sla_met_given) as n_sla_given,
       median(hours_to_response) as median_hours_to_response,
       quantile_cont(hours_to_response, 0.9) as p90_hours_to_response,
       median(hours_to_resolve) as median_hours_to_resolve,
       quantile_cont(hours_to_resolve, 0.9) as p90_hours_to_resolve,
       count(*) filter (where is_breached) as n_breached,
       count(*) filter (where is_breached and is_open) as n_open_breached,
       count(is_breached) as n_decided,
       count(*) filter (where is_breached) / nullif(count(is_breached), 0) as rate_breach,
       max(hours_open) filter (where is_open) as max_hours_open
from pk
group by grouping sets ((), (severity))
order by level, n_complaints desc, severity nulls last
