-- complaints_churn_cox: one row per complainer for the Cox regression of time to churn (a fixed pseudo-random
--   sample of at most $cox_max_rows)
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $churn_multiplier DOUBLE, $churn_days INTEGER,
--   $cox_max_rows INTEGER, $use_spells_mart BOOLEAN,
--   $complaint_rule_mart BOOLEAN, $complaint_period_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, duration_days, is_churned, category, resolution_days (time to resolve, or open so
--   far), is_unresolved, is_breached
-- include: complaints_scope
-- include: complaints_churn_base
select s.customer_id,
       greatest(0, case when s.is_churned then date_diff('day', f.first_at::date, s.lost_date)
                        else date_diff('day', f.first_at::date, s.ref_date) end) as duration_days,
       s.is_churned::int as is_churned,
       f.category,
       f.hours_to_resolve_or_open / 24.0 as resolution_days,
       coalesce(f.is_unresolved, false)::int as is_unresolved,
       f.is_breached::int as is_breached
from status s
join first_complaint f on f.customer_id = s.customer_id  -- the complainers of complaints_churn_base's population
where s.is_churned is not null and f.hours_to_resolve_or_open is not null
order by hash(s.customer_id), s.customer_id
limit $cox_max_rows
