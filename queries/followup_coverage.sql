-- followup_coverage: the share of orders, complaints and won deals in the period followed up (回访) within
--   $followup_days days, in total, by owner, by month and by kind, with the median delay
-- params: $start DATE, $end DATE, $followup_days INTEGER, $owner VARCHAR[], $won_stages VARCHAR[],
--   $lost_stages VARCHAR[] (the funnel's stage settings: which deals are won)
-- returns: dim ('total', 'owner', 'month', 'kind'), key (owner, first day of the month as text, kind; NULL
--   for total or no owner), n_events (records whose follow-up window is over), n_followed (followed within
--   the window), rate_coverage (n_followed / n_events), median_delay_days (of the followed ones),
--   n_pending (records in the period whose window is still open: not counted), n_customers (with a record
--   counted), n_customers_never (none of their records in the period followed up), n_customers_always (every
--   one followed up), n_activities (total only: activities loaded)
with
-- include: followup_events
in_period as (
    select *, strftime(date_trunc('month', event_date), '%Y-%m-%d') as month
    from events
    where event_date between $start and $end
),
-- the customer over all their records in the period whose window is over: none / every one followed up
customer_flags as (
    select customer_id, not bool_or(is_followed) as is_never_followed, bool_and(is_followed) as is_always_followed
    from in_period
    where is_window_over
    group by customer_id
),
flagged as (
    select i.*, coalesce(f.is_never_followed, false) as is_never_followed,
           coalesce(f.is_always_followed, false) as is_always_followed
    from in_period i
    left join customer_flags f using (customer_id)
)
select case when grouping(owner) = 0 then 'owner' when grouping(month) = 0 then 'month'
            when grouping(kind) = 0 then 'kind' else 'total' end as dim,
       case when grouping(owner) = 0 then owner when grouping(month) = 0 then month
            when grouping(kind) = 0 then kind end as key,
       count(*) filter (where is_window_over) as n_events,
       count(*) filter (where is_window_over and is_followed) as n_followed,
       n_followed / nullif(n_events, 0) as rate_coverage,
       median(delay_days) filter (where is_window_over and is_followed) as median_delay_days,
       count(*) filter (where not is_window_over) as n_pending,
       count(distinct customer_id) filter (where is_window_over) as n_customers,
       count(distinct customer_id) filter (where is_window_over and is_never_followed) as n_customers_never,
       count(distinct customer_id) filter (where is_window_over and is_always_followed) as n_customers_always,
       if(grouping(owner) + grouping(month) + grouping(kind) = 3, (select count(*) from stg_activities), null)
           as n_activities
from flagged
group by grouping sets ((), (owner), (month), (kind))
order by dim, key
