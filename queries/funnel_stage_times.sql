-- funnel_stage_times: time spent in each step before moving on (median, p90)
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model)
-- returns: one row per funnel step except won: pos, stage_key, n_moved, days_median, days_p90, days_mean
--   (days from entering the step to entering the next stage), n_no_steps (opportunities in scope with neither a
--   stage history nor a filled stage date column: their creation-to-close time is a whole sales cycle, never the
--   time in one step, so they are left out; the same number on every row)
-- include: funnel_base
,
-- include: funnel_step_moves
select l.pos, l.stage_key,
       count(m.days) as n_moved,
       median(m.days) as days_median,
       quantile_cont(m.days, 0.9) as days_p90,
       avg(m.days) as days_mean,
       (select count(*) from reach where rule <> 'history' and opportunity_id not in (select opportunity_id from dated))
           as n_no_steps
from levels l
left join moves m on m.stage_key = l.stage_key
where not list_contains($won_stages, l.stage_key)  -- nothing follows a won deal
group by l.pos, l.stage_key
order by l.pos
