-- shared piece funnel_step_moves_mart: funnel_step_moves after funnel_base_mart (the proposed stage settings, no stage
--   date column: crmlens.model.funnel_pieces): each opportunity with a history moves as mart_opportunities'
--   default_moves says, worked out at load with those settings; without a history (and no date column) none moves.
moves as (
    select m.stage_key, m.days
    from (select unnest(o.default_moves) as m from reach o where o.rule = 'history')
    where m.days is not null
)
