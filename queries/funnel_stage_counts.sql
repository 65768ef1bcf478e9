-- funnel_stage_counts: how many opportunities (and how much value) reached each step of the funnel
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model)
-- returns: one row per funnel step (pos, stage_key): n_reached, amt_reached, n_reached_no_amount, rate_step
--   (vs previous step), rate_overall (vs first step), n_dropped, amt_dropped, rate_dropped (reached this step,
--   not the next), n_open_here, n_lost_here
-- include: funnel_base
,
by_reach as (
    -- the opportunities by the furthest step they reached and their status (a handful of rows: each step below sums
    -- them instead of joining every opportunity to every step it reached)
    select reach, status, count(opportunity_id) as n, sum(amount) as amt,
           count(opportunity_id) - count(amount) as n_no_amount
    from reach
    group by reach, status
),
per_step as (
    select l.pos, l.stage_key,
           coalesce(sum(r.n), 0)::bigint as n_reached,
           coalesce(sum(r.amt), 0) as amt_reached,
           coalesce(sum(r.n_no_amount), 0)::bigint as n_reached_no_amount,
           coalesce(sum(r.n) filter (where r.reach = l.pos and r.status = 'open'), 0)::bigint as n_open_here,
           coalesce(sum(r.n) filter (where r.reach = l.pos and r.status = 'lost'), 0)::bigint as n_lost_here
    from levels l
    left join by_reach r on r.reach >= l.pos
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
