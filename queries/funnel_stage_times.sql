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
entries as (
    -- when each opportunity first entered each stage: from the history, else (only for opportunities with a filled
    -- stage date column) from the creation date (first step), those stage dates, and the close date
    select opportunity_id, stage_key, min(entered_at) as entered_at
    from (
        select o.opportunity_id, e.stage_key, e.entered_at
        from (select opportunity_id, unnest(history) as e from mart_opportunities
              where opportunity_id in (select opportunity_id from reach where rule = 'history')) o
        union all
        select opportunity_id, (select stage_key from levels where pos = 1), cycle_from::timestamp
        from reach where rule <> 'history' and opportunity_id in (select opportunity_id from dated)
        union all
        select d.opportunity_id, d.stage_key, d.entered_at
        from dated d
        where d.opportunity_id in (select opportunity_id from reach where rule <> 'history')
        union all
        select opportunity_id, stage_key, closed_on::timestamp
        from reach where rule <> 'history' and status <> 'open' and opportunity_id in (select opportunity_id from dated)
    )
    where entered_at is not null and stage_key is not null
    group by opportunity_id, stage_key
),
moves as (
    -- the next stage entered after this one (ties in time: the earlier step first)
    select e.stage_key, e.entered_at,
           lead(e.entered_at) over (partition by e.opportunity_id order by e.entered_at, coalesce(l.pos, 2147483647), e.stage_key) as next_at
    from entries e
    left join levels l on l.stage_key = e.stage_key
)
select l.pos, l.stage_key,
       count(m.next_at) as n_moved,
       median(epoch(m.next_at - m.entered_at) / 86400) as days_median,
       quantile_cont(epoch(m.next_at - m.entered_at) / 86400, 0.9) as days_p90,
       avg(epoch(m.next_at - m.entered_at) / 86400) as days_mean,
       (select count(*) from reach where rule <> 'history' and opportunity_id not in (select opportunity_id from dated))
           as n_no_steps
from levels l
left join moves m on m.stage_key = l.stage_key and m.next_at >= m.entered_at
where not list_contains($won_stages, l.stage_key)  -- nothing follows a won deal
group by l.pos, l.stage_key
order by l.pos
