-- departures: salespeople who left (客户随着销售员的流失而流失), the customers they held and what became of
--   them: the held customers active on the day they left, and how many of those the churn rule counts lost
--   within $window_days days (or by the day customer figures are as of, period_as_of, when that is sooner),
--   against the customers of owners who stayed, active that same day and followed over the same days; no rate
--   while fewer than $churn_days days are followed (too early to tell)
-- params: $end DATE, $inactive_days INTEGER, $window_days INTEGER, $churn_days INTEGER,
--   $churn_multiplier DOUBLE, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: owner, left_on, how ('marked', 'list', 'inactive'), last_seen (last activity or opportunity),
--   n_customers (held), n_active (held and active on left_on), amt_revenue_year (held customers' revenue in the
--   365 days before left_on: value_at_stake), share_revenue (of everybody's revenue in those days), days_followed
--   (min($window_days, period_as_of(data end) - left_on), at least 0), n_lost (active held customers lost in those
--   days), rate_churn_after, n_comparable (customers of owners who stayed, active on left_on), n_comparable_lost,
--   rate_churn_comparable (both rates NULL when days_followed < $churn_days: too early to tell)
with
-- include: departures_found
-- include: departures_compared
windows as (
    select owner, left_on, greatest(least($window_days, (select as_of from data_end) - left_on), 0)::integer as days_followed
    from departed
),
-- customers active on the day (in a lifetime that started by then and had not ended), lost within the days
followed as (
    select w.owner, 'held' as grp, s.customer_id, s.lost_date is not null and s.lost_date <= w.left_on + w.days_followed as is_lost
    from windows w
    join held h using (owner)
    join spells s on s.customer_id = h.customer_id and s.spell_start <= w.left_on
     and (s.lost_date is null or s.lost_date > w.left_on)
    union all
    select w.owner, 'stayed', s.customer_id, s.lost_date is not null and s.lost_date <= w.left_on + w.days_followed
    from windows w
    join spells s on s.spell_start <= w.left_on and (s.lost_date is null or s.lost_date > w.left_on)
    semi join stayers t on t.customer_id = s.customer_id
),
outcome as (
    select owner,
           count(*) filter (where grp = 'held') as n_active,
           count(*) filter (where grp = 'held' and is_lost) as n_lost,
           count(*) filter (where grp = 'stayed') as n_comparable,
           count(*) filter (where grp = 'stayed' and is_lost) as n_comparable_lost
    from followed
    group by owner
),
revenue as (
    -- every customer's revenue in the 365 days to the day they left (value_at_stake), theirs and everybody's
    select w.owner,
           sum(v.amt_at_stake) filter (where v.customer_id in (select customer_id from held h where h.owner = w.owner))
               as amt_revenue_year,
           sum(v.amt_at_stake) as amt_revenue_all
    from windows w, lateral value_at_stake(w.left_on) v
    group by w.owner
)
select d.owner, d.left_on, d.how, d.last_seen,
       (select count(*) from held h where h.owner = d.owner) as n_customers,
       coalesce(o.n_active, 0) as n_active,
       coalesce(r.amt_revenue_year, 0) as amt_revenue_year,
       coalesce(r.amt_revenue_year, 0) / nullif(r.amt_revenue_all, 0) as share_revenue,
       w.days_followed,
       coalesce(o.n_lost, 0) as n_lost,
       if(w.days_followed < $churn_days, null, o.n_lost / nullif(o.n_active, 0)) as rate_churn_after,
       coalesce(o.n_comparable, 0) as n_comparable, coalesce(o.n_comparable_lost, 0) as n_comparable_lost,
       if(w.days_followed < $churn_days, null, o.n_comparable_lost / nullif(o.n_comparable, 0)) as rate_churn_comparable
from departed d
join windows w using (owner)
left join outcome o using (owner)
left join revenue r using (owner)
order by d.left_on, d.owner
