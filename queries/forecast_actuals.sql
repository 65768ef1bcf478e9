-- forecast_actuals: what was won per month, per owner, in ($from, $to] (for the back-test and attainment)
-- params: $from DATE (exclusive), $to DATE (inclusive), $won_stages VARCHAR[], $owner VARCHAR[] (empty = all)
-- returns: month, owner, n_won, amt_won (closed on its close date, else the day its history entered a won stage)
with history_won as (
    select opportunity_id, min(entered_at)::date as won_on
    from stg_opportunity_stage_history
    where list_contains($won_stages, stage_key)
    group by opportunity_id
),
won as (
    select o.owner, coalesce(o.close_date, h.won_on, o.effective_created) as closed_on, coalesce(o.amount, 0) as amount
    from stg_opportunities o
    left join history_won h using (opportunity_id)
    where list_contains($won_stages, o.stage_key)
      and (len($owner) = 0 or list_contains($owner, o.owner))
)
select date_trunc('month', closed_on)::date as month, owner, count(*) as n_won, sum(amount) as amt_won
from won
where closed_on > $from and closed_on <= $to
group by all
order by month, owner
