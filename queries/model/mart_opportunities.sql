-- mart_opportunities: one row per opportunity with its customer's segment and region and its stage history
--   folded into one list, so that funnel queries read one table and never the history rows
-- grain: opportunity_id; source: stg_opportunities, stg_customers, stg_opportunity_stage_history
--   segment, region: the customer's (NULL without a known customer)
--   history: when the opportunity first entered each stage of its history, earliest first
--            (list of {stage_key, entered_at}; a row without a stage keeps a NULL stage_key); NULL when it
--            has no history; has_history: it has one
--   default_status, default_hist_pos, default_closed_on: with the funnel's proposed stage settings (crmlens.funnel
--     .propose on mart_stage_spellings, the page's default; built with $stages, $won_stages, $lost_stages):
--     opportunity_status, the furthest funnel step its history entered (NULL: none), opportunity_closed_on.
--     The funnel queries read them instead of going through every history (crmlens.model.use_funnel_mart)
--   default_moves: with those settings, each stage of its history (with a stage and a time) and the days from
--     entering it to entering the next one, in funnel_step_moves' order (time, then step, then stage; NULL days for
--     the last): list of {stage_key, days}. The funnel's speed tab reads them (funnel_step_moves_mart)
--   default_settings: those settings (crmlens.model.settings_key; the same on every row)
create or replace table mart_opportunities as
with entered as (
    select opportunity_id, stage_key, min(entered_at) as entered_at
    from stg_opportunity_stage_history
    group by opportunity_id, stage_key
),
-- (list_sort of {entered_at, stage_key} structs sorts them as `order by entered_at, stage_key` would, nulls last; an
--   ordered list() sorts each of a million groups apart: 3x the time at 10M order lines. crmlens.model.inputs reads
--   the names in this text, comments too: a loaded table named here makes every load of it rebuild this mart)
histories as (
    select opportunity_id,
           list_transform(list_sort(list({'entered_at': entered_at, 'stage_key': stage_key})),
                          e -> {'stage_key': e.stage_key, 'entered_at': e.entered_at}) as history
    from entered
    group by opportunity_id
),
level_list as (
    -- the funnel's steps as funnel_base numbers them: the stage order without the lost stages
    select list_filter($stages::varchar[], s -> not list_contains($lost_stages::varchar[], s)) as keys
),
step_orders as (
    -- each history in funnel_step_moves' order (a list of structs sorts field by field, nulls last)
    select h.opportunity_id,
           list_sort(list_transform(list_filter(h.history, e -> e.entered_at is not null and e.stage_key is not null),
                                    e -> {'entered_at': e.entered_at,
                                          'pos': coalesce(list_position(v.keys, e.stage_key), 2147483647),
                                          'stage_key': e.stage_key})) as steps
    from histories h
    cross join level_list v
)
select o.opportunity_id, o.customer_id, o.stage, o.stage_key, o.status, o.created_date, o.effective_created, o.dated_by,
       o.close_date, o.amount, o.owner, o.source, o.product, c.segment, c.region, h.history,
       h.history is not null as has_history,
       opportunity_status(o.stage_key, $won_stages::varchar[], $lost_stages::varchar[]) as default_status,
       list_max(list_transform(h.history, e -> list_position(v.keys, e.stage_key))) as default_hist_pos,
       opportunity_closed_on(o.close_date, h.history, $won_stages::varchar[], $lost_stages::varchar[]) as default_closed_on,
       list_transform(m.steps, (e, i) -> {'stage_key': e.stage_key,
                                          'days': epoch(m.steps[i + 1].entered_at - e.entered_at) / 86400})
           as default_moves,
       $settings::varchar as default_settings
from stg_opportunities o
cross join level_list v
left join stg_customers c on c.customer_id = o.customer_id
left join histories h on h.opportunity_id = o.opportunity_id
left join step_orders m on m.opportunity_id = o.opportunity_id
