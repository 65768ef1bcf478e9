-- shared piece forecast_base: the pipeline as of a date ($as_of): closed history, each step's win rate (pooled
--   and per owner), and the opportunities open then with their chance to be won and expected close day.
-- Status by the funnel's stage settings (opportunity_status on $won_stages, $lost_stages); an opportunity counts
--   from its effective_created (an undated one is in no pipeline: forecast_undated counts them); it closed on
--   opportunity_closed_on (the funnel's "closed on"): a deal closed on an unknown day counts as closed only when
--   $as_of reaches the newest opportunity day (the present); as of an earlier day (the back-test) it is left out
--   of both the closed history and the open pipeline, and it adds no sales cycle (opportunity_cycle_days).
-- Input: the parameters $as_of, $stages, $won_stages, $lost_stages, $owner, $rate_by ('pooled', 'owner' or
--   'product': whose own rate a deal takes when its group closed $min_closed or more from its step), $min_closed.
-- Output CTEs: step_rates (pos, stage_key, n_closed, n_won, rate_win), group_rates, open_scored.
levels as (
    -- the funnel's open steps in order (stage order less the won and lost stages), numbered from 1
    select unnest(l) as stage_key, generate_subscripts(l, 1) as pos
    from (select list_filter($stages::varchar[],
                             s -> not list_contains($lost_stages, s) and not list_contains($won_stages, s)) as l)
),
n_levels as (select count(*) as n from levels),
hist_by_opp as materialized (
    select h.opportunity_id,
           max(l.pos) filter (where h.entered_at::date <= $as_of) as max_pos_as_of,
           arg_max(h.stage_key, h.entered_at) filter (where h.entered_at::date <= $as_of) as stage_key_as_of
    from stg_opportunity_stage_history h
    left join levels l on l.stage_key = h.stage_key
    group by h.opportunity_id
),
opp as materialized (
    select o.opportunity_id, o.owner, o.stage_key, o.amount, o.effective_created, o.dated_by, o.close_date,
           case $rate_by when 'owner' then o.owner when 'product' then o.product end as rate_group,
           opportunity_status(o.stage_key, $won_stages, $lost_stages) as status_now,
           h.opportunity_id is not null as has_history, h.max_pos_as_of, h.stage_key_as_of,
           opportunity_closed_on(o.close_date, o.history, $won_stages, $lost_stages) as closed_on
    from mart_opportunities o
    left join hist_by_opp h using (opportunity_id)
    where o.effective_created <= $as_of
      and (len($owner) = 0 or list_contains($owner, o.owner))
),
present as (
    -- the newest day the opportunities reach (created, closed, a stage entered; an open deal's close date is only
    --   expected): as of then or later, what is closed now was closed then
    select max(greatest(effective_created,
                        if(opportunity_status(stage_key, $won_stages, $lost_stages) <> 'open', close_date, null),
                        list_max(list_transform(history, e -> e.entered_at))::date)) as d
    from mart_opportunities
),
as_of_status as (
    select *,
           case when status_now = 'open' then 'open'
                when closed_on <= $as_of then status_now
                when closed_on is null and $as_of >= (select d from present) then status_now
                when closed_on is null then 'unknown'  -- closed on a day nobody knows: neither closed nor open then
                else 'open' end as status_as_of
    from opp
),
closed as materialized (
    -- closed by $as_of, and the furthest step each reached: a won deal every step; with a history the furthest
    --   step entered; a lost deal without history the first step only
    select rate_group, status_as_of = 'won' as is_won,
           case when status_as_of = 'won' then (select n from n_levels)
                when has_history then coalesce(max_pos_as_of, 1)
                else 1 end as reach
    from as_of_status
    where status_as_of in ('won', 'lost')
),
step_rates as (
    select l.pos, l.stage_key, count(c.reach) as n_closed, count(c.reach) filter (where c.is_won) as n_won,
           count(c.reach) filter (where c.is_won) / nullif(count(c.reach), 0) as rate_win
    from levels l
    left join closed c on c.reach >= l.pos
    group by l.pos, l.stage_key
),
group_rates as (
    select c.rate_group, l.pos, count(*) as n_closed, count(*) filter (where c.is_won) as n_won,
           count(*) filter (where c.is_won) / count(*) as rate_win
    from levels l
    join closed c on c.reach >= l.pos
    where c.rate_group is not null
    group by c.rate_group, l.pos
),
cycle as (
    -- the median sales cycle (opportunity_cycle_days, the funnel's rule) of the deals won by $as_of
    select median(opportunity_cycle_days(dated_by, effective_created, closed_on)) as days_median
    from as_of_status
    where status_as_of = 'won'
),
open_at as (
    -- open on $as_of, at the step it was in then (its history's latest stage by then, else its current stage; a
    --   deal closed later without history: unknown, counted at the first step)
    select o.opportunity_id, o.owner, o.rate_group, coalesce(o.amount, 0) as amount, o.amount is null as is_amount_missing,
           o.effective_created, o.close_date,
           coalesce(if(o.has_history, o.stage_key_as_of, null), if(o.status_now = 'open', o.stage_key, null)) as stage_key_as_of
    from as_of_status o
    where o.status_as_of = 'open'
),
open_scored as (
    select a.opportunity_id, a.owner, a.amount, a.is_amount_missing, a.effective_created,
           coalesce(l.stage_key, a.stage_key_as_of) as stage_key,
           coalesce(l.pos, 1) as pos, l.pos is null as is_stage_unknown,
           if(r.n_closed >= $min_closed, r.rate_win, p.rate_win) as rate_win,
           if(r.n_closed >= $min_closed, $rate_by, 'pooled') as rate_source,
           if(r.n_closed >= $min_closed, r.n_closed, p.n_closed) as n_closed_behind,
           -- expected close: its close date when still ahead; a date passed or a missing one: its age plus the median
           --   cycle, at the earliest the day after $as_of
           case when a.close_date > $as_of then a.close_date
                when cy.days_median is null then null
                else greatest(a.effective_created + cast(round(cy.days_median) as integer), $as_of::date + 1)
           end as expected_close_on,
           coalesce(a.close_date > $as_of, false) as is_close_date_used
    from open_at a
    left join levels l on l.stage_key = a.stage_key_as_of
    left join step_rates p on p.pos = coalesce(l.pos, 1)
    left join group_rates r on r.rate_group = a.rate_group and r.pos = coalesce(l.pos, 1)
    cross join cycle cy
),
