-- forecast_undated: opportunities the forecast cannot place in time: open ones without any date (no creation,
--   stage or close date: in no pipeline), and closed ones without a close day (no cycle; in no back-test)
-- params: $won_stages VARCHAR[], $lost_stages VARCHAR[], $owner VARCHAR[] (empty = all)
-- returns: one row: n_undated_open, amt_undated_open, n_closed_undated
with opp as (
    select effective_created, amount,
           opportunity_status(stage_key, $won_stages, $lost_stages) as status,
           opportunity_closed_on(close_date, history, $won_stages, $lost_stages) as closed_on
    from mart_opportunities
    where len($owner) = 0 or list_contains($owner, owner)
)
select count(*) filter (where status = 'open' and effective_created is null) as n_undated_open,
       coalesce(sum(amount) filter (where status = 'open' and effective_created is null), 0) as amt_undated_open,
       count(*) filter (where status <> 'open' and closed_on is null) as n_closed_undated
from opp
