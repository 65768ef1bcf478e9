-- complaints_time_bands: distribution of response and resolution times over the bands of $band_hours
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE
-- returns: band (0 = up to the first edge, ..., len = above the last; -1 = not yet (open / no response); -2 =
--   closed without a time),
--   n_response, n_resolve
-- include: complaints_scope
,
response as (
    select case when hours_to_response is not null then len(list_filter($band_hours, x -> x < hours_to_response))
                else -1 end as band, count(*) as n_response
    from pk group by 1
),
resolve as (
    select band, count(*) as n_resolve from pk group by 1
),
all_bands as (
    select unnest(range(-2, len($band_hours) + 1)) as band
)
select b.band, coalesce(r.n_response, 0) as n_response, coalesce(s.n_resolve, 0) as n_resolve
from all_bands b
left join response r using (band)
left join resolve s using (band)
order by b.band
