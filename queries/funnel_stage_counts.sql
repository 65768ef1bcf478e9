-- funnel_stage_counts: how many opportunities (and how much value) reached each step of the funnel
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN
-- returns: one row per funnel step (pos, stage_key): n_reached, amt_reached, n_reached_no_amount, rate_step
--   (vs previous step), rate_overall (vs first step), n_dropped, amt_dropped, rate_dropped (reached this step,
--   not the next), n_open_here, n_lost_here
-- include: funnel_base
,
per_step as (
    select l.pos, l.stage_key,
           count(r.opportunity_id) as n_reached,
           coalesce(sum(r.amount), 0) as amt_reached,
           count(r.opportunity_id) - count(r.amount) as n_reached_no_amount,
           count(r.opportunity_id) filter (where r.reach = l.pos and r.status = 'open') as n_open_here,
           count(r.opportunity_id) filter (where r.reach = l.pos and r.status = 'lost') as n_lost_here
    from levels l
    left join reach r on r.reach >= l.pos
    group by l.pos, l.stage_key
)
select pos, stage_key, n_reached, amt_reached, n_reached_no_amount,
       n_reached / nullif(lag(n_reached) over w, 0) as rate_step,
       n_reached / nullif(first_value(n_reached) over w, 0) as rate_overall,
       n_reached - lead(n_reached) over w as n_dropped,
       amt_reached - lead(amt_reached) over w as amt_dropped,
       (n_reached - lead(n_reached) over w) / nullif(n_reached, 0) as rate_dropped,
       n_open_here, n_lost_here
from per_step
window w as (order by pos)
order by pos
