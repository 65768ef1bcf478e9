-- funnel_breakdown: the funnel's outcome per owner, source, segment, region or product
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model),
--   $by VARCHAR ('owner', 'source', 'segment', 'region', 'product', or a side file's column: funnel_attributes)
-- returns: one row per group (grp, NULL = not set), by value: n_opportunities, amt_value, n_won, n_lost,
--   n_open, amt_won, amt_open_pipeline, rate_win, rate_conversion, days_avg_cycle
-- include: funnel_base
-- include: funnel_grouped
select grp,
       count(*) as n_opportunities,
       coalesce(sum(amount), 0) as amt_value,
       count(*) filter (where status = 'won') as n_won,
       count(*) filter (where status = 'lost') as n_lost,
       count(*) filter (where status = 'open') as n_open,
       coalesce(sum(amount) filter (where status = 'won'), 0) as amt_won,
       coalesce(sum(amount) filter (where status = 'open'), 0) as amt_open_pipeline,
       count(*) filter (where status = 'won') / nullif(count(*) filter (where status <> 'open'), 0) as rate_win,
       count(*) filter (where status = 'won') / count(*) as rate_conversion,
       avg(days_cycle) as days_avg_cycle
from grouped
group by grp
order by amt_value desc, n_opportunities desc, grp nulls last
