-- shared piece funnel_base_mart: funnel_base when the stage settings are the proposed ones mart_opportunities keeps
--   its default_* columns for and no stage date column is mapped (queries.run swaps it in when
--   crmlens.model.funnel_pieces says so): each opportunity's status, furthest history step and close day are read
--   from those columns, no history or date column is read, so the reach rules need nothing but the row itself and
--   nothing is materialised (each query reads the columns it uses). The same CTEs and columns as funnel_base;
--   `dated` is empty (no date column), so the rule 'lost_dates' never applies.
with levels as (
    -- the funnel's steps: the stage order without the lost stages, numbered from 1
    select unnest(l) as stage_key, generate_subscripts(l, 1) as pos
    from (select list_filter($stages::varchar[], s -> not list_contains($lost_stages, s)) as l)
),
n_levels as (select count(*) as n from levels),
level_list as (select list(stage_key order by pos) as keys from levels),
opp as (
    select o.opportunity_id, o.customer_id, trim(o.stage) as stage, o.stage_key,
           o.created_date, o.effective_created, o.dated_by, o.close_date, o.amount,
           if(o.dated_by in ('created', 'first_stage'), o.effective_created, null) as cycle_from, o.owner, o.source, o.product, o.segment, o.region,
           -- the opportunity's row in mart_opportunities (funnel_opportunities reads its page's wide columns by it)
           o.rowid as mart_row,
           o.default_status as status,
           o.has_history,
           o.default_hist_pos as hist_max_pos,
           o.default_closed_on as closed_on,
           o.default_moves
    from mart_opportunities o
    where (o.effective_created between $start and $end or (o.effective_created is null and $include_undated))
      and (len($owner) = 0 or list_contains($owner, o.owner))
      and (len($source) = 0 or list_contains($source, o.source))
      and (len($segment) = 0 or list_contains($segment, o.segment))
      and (len($region) = 0 or list_contains($region, o.region))
),
dated as (
    -- no stage date column: nothing dated
    select opportunity_id, stage_key, 1::bigint as pos, null::timestamp as entered_at
    from mart_opportunities
    where false
),
reach as (
    select o.* exclude (stage_pos),
           case when o.has_history then 'history'
                when o.status = 'won' then 'won'
                when o.status = 'open' then 'open'
                else 'lost_first' end as rule,
           case when o.status = 'won' then (select n from n_levels)
                when o.has_history then greatest(coalesce(o.hist_max_pos, 1), coalesce(o.stage_pos, 1))
                when o.status = 'open' then coalesce(o.stage_pos, 1)
                else 1 end as reach,
           o.status = 'open' and o.stage_pos is null as is_outside_order,
           if(o.status = 'won', opportunity_cycle_days(o.dated_by, o.effective_created, o.closed_on), null) as days_cycle
    -- the step the opportunity stands on (funnel_base joins the steps: the proposed stages are distinct, so the
    --   first position is the one)
    from (select o.*, list_position(v.keys, o.stage_key) as stage_pos from opp o, level_list v) o
)
