-- complaints_category_month: complaints per category and month (the heatmap)
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE
-- returns: category (NULL = not given), month_start, n_complaints
-- include: complaints_scope
select category, date_trunc('month', created_at)::date as month_start, count(*) as n_complaints
from pk
group by all
order by month_start, category nulls last
