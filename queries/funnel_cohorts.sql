-- funnel_cohorts: conversion of the opportunities created in each month (cohorts), with how many are still
--   open
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model)
-- returns: one row per creation month in the period: month_start, n_created, n_won, n_lost, n_open,
--   amt_created, amt_won, rate_win, rate_conversion, rate_open
-- include: funnel_base
,
months as (
    select unnest(generate_series(date_trunc('month', $start::date), date_trunc('month', $end::date), interval 1 month))::date as month_start
)
select m.month_start,
       count(r.opportunity_id) as n_created,
       count(r.opportunity_id) filter (where r.status = 'won') as n_won,
       count(r.opportunity_id) filter (where r.status = 'lost') as n_lost,
       count(r.opportunity_id) filter (where r.status = 'open') as n_open,
       coalesce(sum(r.amount), 0) as amt_created,
       coalesce(sum(r.amount) filter (where r.status = 'won'), 0) as amt_won,
       count(r.opportunity_id) filter (where r.status = 'won')
           / nullif(count(r.opportunity_id) filter (where r.status <> 'open'), 0) as rate_win,
       count(r.opportunity_id) filter (where r.status = 'won') / nullif(count(r.opportunity_id), 0) as rate_conversion,
       count(r.opportunity_id) filter (where r.status = 'open') / nullif(count(r.opportunity_id), 0) as rate_open
from months m
left join reach r on date_trunc('month', r.effective_created) = m.month_start
group by m.month_start
order by m.month_start
