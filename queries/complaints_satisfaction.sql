-- complaints_satisfaction: satisfaction (1-5) after resolution, by category and by resolution-time band
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE
-- returns: kind ('category' or 'band'), value (category, or band number as text), n_resolved, n_rated,
--   avg_satisfaction,
--   share_satisfied (4 or 5 of 5), share_dissatisfied (1 or 2)
-- include: complaints_scope
,
resolved as (
    select category, band, satisfaction from pk where hours_to_resolve is not null
)
select case when grouping(category) = 0 then 'category' else 'band' end as kind,
       case when grouping(category) = 0 then category else band::varchar end as value,
       count(*) as n_resolved,
       count(satisfaction) as n_rated,
       avg(satisfaction) as avg_satisfaction,
       count(*) filter (where satisfaction >= 4) / nullif(count(satisfaction), 0) as share_satisfied,
       count(*) filter (where satisfaction <= 2) / nullif(count(satisfaction), 0) as share_dissatisfied
from resolved
group by grouping sets ((category), (band))
order by kind, n_resolved desc, value
