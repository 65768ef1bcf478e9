-- shared piece funnel_step_moves: after funnel_base (its reach, dated and levels), `moves`: one row per stage an
--   opportunity entered and then left for another stage, with the days from entering it to entering the next
--   (stage_key, days). Its mart variant gives the same rows from mart_opportunities' default_moves.
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
    select stage_key, epoch(next_at - entered_at) / 86400 as days
    from (
        select e.stage_key, e.entered_at,
               lead(e.entered_at) over (partition by e.opportunity_id
                                        order by e.entered_at, coalesce(l.pos, 2147483647), e.stage_key) as next_at
        from entries e
        left join levels l on l.stage_key = e.stage_key
    )
    where next_at >= entered_at
)
