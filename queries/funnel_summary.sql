-- funnel_summary: headline figures: won, lost, open, win rate, deal size, cycle, velocity, and which reach
--   rule applied
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model), $window_days INTEGER
-- returns: one row: n_opportunities, n_won, n_lost, n_open, amt_avg_won, amt_won, amt_open_pipeline,
--   days_avg_cycle, days_median_cycle, n_cycle (won deals, created to close), n_rule_* (how reach was decided),
--   n_outside_order, outside_stages, n_no_amount, rate_win, amt_velocity_per_day, n_no_created_date (matching the
--   filters, in any period), n_undated (of those, no date at all), n_dated_first_stage, n_dated_close (in this
--   view, dated by their first stage / close date), n_undated_in (undated ones counted here: $include_undated),
--   rate_open (still open / all: beside the win rate, which is on closed deals only),
--   conversion window ($window_days > 0, else NULL): window_as_of (the period end, or the newest opportunity date
--   before it), n_window_elapsed (created at least $window_days days before window_as_of: they had the whole
--   window), n_won_in_window (of those, won within $window_days days of their creation), rate_win_window
-- include: funnel_base
,
figures as (
    select count(*) as n_opportunities,
           count(*) filter (where status = 'won') as n_won,
           count(*) filter (where status = 'lost') as n_lost,
           count(*) filter (where status = 'open') as n_open,
           avg(amount) filter (where status = 'won') as amt_avg_won,
           coalesce(sum(amount) filter (where status = 'won'), 0) as amt_won,
           coalesce(sum(amount) filter (where status = 'open'), 0) as amt_open_pipeline,
           avg(days_cycle) as days_avg_cycle,
           median(days_cycle) as days_median_cycle,
           count(days_cycle) as n_cycle,
           count(*) filter (where rule = 'history') as n_rule_history,
           count(*) filter (where rule = 'won') as n_rule_won,
           count(*) filter (where rule = 'open') as n_rule_open,
           count(*) filter (where rule = 'lost_dates') as n_rule_lost_dates,
           count(*) filter (where rule = 'lost_first') as n_rule_lost_first,
           count(*) filter (where is_outside_order) as n_outside_order,
           coalesce(list(distinct stage order by stage) filter (where is_outside_order), []) as outside_stages,
           count(*) - count(amount) as n_no_amount,
           count(*) filter (where dated_by = 'first_stage') as n_dated_first_stage,
           count(*) filter (where dated_by = 'close') as n_dated_close,
           count(*) filter (where dated_by is null) as n_undated_in
    from reach
),
undated as (
    -- opportunities that match the filters but have no creation date: no period can hold them
    select count(*) as n_no_created_date, count(*) filter (where o.dated_by is null) as n_undated
    from mart_opportunities o
    where o.created_date is null
      and (len($owner) = 0 or list_contains($owner, o.owner))
      and (len($source) = 0 or list_contains($source, o.source))
      and (len($segment) = 0 or list_contains($segment, o.segment))
      and (len($region) = 0 or list_contains($region, o.region))
),
window_figures as (
    select w.window_as_of,
           count(r.opportunity_id) filter (where r.effective_created + $window_days <= w.window_as_of) as n_window_elapsed,
           count(r.opportunity_id) filter (where r.effective_created + $window_days <= w.window_as_of
                                             and r.status = 'won' and r.closed_on - r.effective_created <= $window_days)
               as n_won_in_window
    from (select least($end::date, max(greatest(effective_created, close_date))) as window_as_of
          from mart_opportunities) w
    left join reach r on $window_days > 0 and r.effective_created is not null
    group by w.window_as_of
)
select f.*,
       n_won / nullif(n_won + n_lost, 0) as rate_win,
       n_open / nullif(n_opportunities, 0) as rate_open,
       if($window_days > 0, wf.window_as_of, null) as window_as_of,
       if($window_days > 0, wf.n_window_elapsed, null) as n_window_elapsed,
       if($window_days > 0, wf.n_won_in_window, null) as n_won_in_window,
       if($window_days > 0, wf.n_won_in_window / nullif(wf.n_window_elapsed, 0), null) as rate_win_window,
       -- sales velocity: open opportunities x win rate x average won deal / average cycle, per day
       n_open * (n_won / nullif(n_won + n_lost, 0)) * amt_avg_won / nullif(days_avg_cycle, 0) as amt_velocity_per_day,
       u.n_no_created_date, u.n_undated
from figures f, undated u, window_figures wf
