-- forecast_actuals: what was won per month, per owner, in ($from, $to] (for the back-test and attainment)
-- params: $from DATE (exclusive), $to DATE (inclusive), $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $owner VARCHAR[] (empty = all)
-- returns: month, owner, n_won, amt_won (won by opportunity_status, on the day opportunity_closed_on gives: its
--   close date, else the day its history entered a won or lost stage; a deal won on an unknown day is in no month)
with won as (
    select owner, opportunity_closed_on(close_date, history, $won_stages, $lost_stages) as closed_on,
           coalesce(amount, 0) as amount
    from mart_opportunities
    where opportunity_status(stage_key, $won_stages, $lost_stages) = 'won'
      and (len($owner) = 0 or list_contains($owner, owner))
)
select date_trunc('month', closed_on)::date as month, owner, count(*) as n_won, sum(amount) as amt_won
from won
where closed_on > $from and closed_on <= $to
group by all
order by month, owner
