-- shared piece funnel_base: opportunities in scope and the stages each one reached (the three reach rules)
with levels as (
    -- the funnel's steps: the stage order without the lost stages, numbered from 1
    select unnest(l) as stage_key, generate_subscripts(l, 1) as pos
    from (select list_filter($stages::varchar[], s -> not list_contains($lost_stages, s)) as l)
),
n_levels as (select count(*) as n from levels),
level_list as (select list(stage_key order by pos) as keys from levels),
opp as materialized (
    select o.opportunity_id, o.customer_id, trim(o.stage) as stage, o.stage_key,
           o.created_date, o.effective_created, o.dated_by, o.close_date, o.amount,
           -- a cycle or first-step time counts from a creation or first-stage date, never from the close date
           if(o.dated_by in ('created', 'first_stage'), o.effective_created, null) as cycle_from, o.owner, o.source, o.product, o.segment, o.region,
           -- the opportunity's row in mart_opportunities (funnel_opportunities reads its page's wide columns by it)
           o.rowid as mart_row,
           -- ($use_funnel_mart: the settings are the proposed ones mart_opportunities was built with: its default_*
           --  columns hold these three, and no history is read)
           if($use_funnel_mart, o.default_status,
              opportunity_status(o.stage_key, $won_stages, $lost_stages)) as status,
           -- with a stage history: the furthest step entered
           o.has_history,
           if($use_funnel_mart, o.default_hist_pos,
              list_max(list_transform(o.history, e -> list_position(v.keys, e.stage_key)))) as hist_max_pos,
           -- the day it closed (its close date, else its history's first won or lost stage; NULL: unknown)
           if($use_funnel_mart, o.default_closed_on,
              opportunity_closed_on(o.close_date, o.history, $won_stages, $lost_stages)) as closed_on
    from mart_opportunities o, level_list v
    -- in the period by its effective creation date; undated ones (no date at all) only when the view covers all
    -- the data ($include_undated, crmlens.funnel.covers_all_data)
    where (o.effective_created between $start and $end or (o.effective_created is null and $include_undated))
      and (len($owner) = 0 or list_contains($owner, o.owner))
      and (len($source) = 0 or list_contains($source, o.source))
      and (len($segment) = 0 or list_contains($segment, o.segment))
      and (len($region) = 0 or list_contains($region, o.region))
),
dated as materialized (
    -- filled stage date columns (extra columns such as engage_date, mapped to stages in
    --   $date_columns/$date_stages)
    select u.opportunity_id, l.stage_key, l.pos, try_cast(u.val as timestamp) as entered_at
    from (
        unpivot (
            select opportunity_id, columns(c -> c = 'stage' or c not in ('opportunity_id', 'created_date', 'effective_created', 'dated_by',
                   'customer_id', 'amount', 'owner', 'source', 'product', 'close_date'))::varchar
            from stg_opportunities
            where len($date_columns) > 0 and opportunity_id in (select opportunity_id from opp)
        ) on columns(* exclude (opportunity_id)) into name col value val
    ) u
    join levels l on l.stage_key = list_extract($date_stages::varchar[], list_position($date_columns::varchar[], u.col))
    where list_contains($date_columns, u.col) and trim(u.val) <> ''
),
reach as materialized (
    select o.*,
           case when o.has_history then 'history'
                when o.status = 'won' then 'won'
                when o.status = 'open' then 'open'
                when d.max_pos is not null then 'lost_dates'
                else 'lost_first' end as rule,
           -- the furthest step reached; every step before it counts as reached too
           case when o.status = 'won' then (select n from n_levels)
                when o.has_history then greatest(coalesce(o.hist_max_pos, 1), coalesce(l.pos, 1))
                when o.status = 'open' then coalesce(l.pos, 1)
                else coalesce(d.max_pos, 1) end as reach,
           o.status = 'open' and l.pos is null as is_outside_order,
           -- a won deal's sales cycle (NULL for one dated only by its close date: it adds no cycle)
           if(o.status = 'won', opportunity_cycle_days(o.dated_by, o.effective_created, o.closed_on), null) as days_cycle
    from opp o
    left join levels l on l.stage_key = o.stage_key
    left join (select opportunity_id, max(pos) as max_pos from dated group by opportunity_id) d
        on d.opportunity_id = o.opportunity_id
)
