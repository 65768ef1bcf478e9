-- churn_bucket: the leaky bucket per month or quarter: customers at start, new, reactivated, lost, at end;
--   churn and revenue churn, NRR
-- params: $start DATE, $end DATE (inclusive), $grain VARCHAR ('month' or 'quarter'),
--   $definition VARCHAR ('orders' or 'explicit'), $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $use_spells_mart BOOLEAN, $use_churn_mart BOOLEAN (set by crmlens.model)
-- returns: one row per period from $start to the as-of day: period_start, first_day, last_day, is_complete,
-- n_start, n_new, n_reactivated, n_lost, n_lost_from_start, n_end, rate_churn (n_lost_from_start / n_start),
--   amt_revenue_lost (lost customers' revenue in their last 365 days, net of refunds; explicit: 12 x monthly revenue),
-- amt_revenue_base, rate_revenue_churn, rate_nrr (revenue in the 12 months to the period end from the
--     customers who bought in the 12 months
--   before, divided by what they spent then; complete periods with two years of history)
with
-- include: churn_spells
periods as (
    select period_start, period_end,
           greatest(period_start, $start::date) as first_day,
           least(period_end, (select as_of_date from as_of)) as last_day,
           date_trunc('month', period_end)::date as end_month
    from (
        select distinct date_trunc($grain, d)::date as period_start,
               (date_trunc($grain, d) + if($grain = 'quarter', interval 3 month, interval 1 month))::date - 1 as period_end
        from range($start::date, $end::date + 1, interval 1 day) as r(d)
    )
    where greatest(period_start, $start::date) <= least(period_end, (select as_of_date from as_of))
),
dated as (
    -- lifetimes placed in time (explicit churn without dates cannot be)
    select * from spells where spell_start is not null and not (is_lost and lost_date is null)
),
day_counts as (
    -- churn from orders: lifetimes begun and lost per day (a lifetime is lost on or after the day it began)
    select d, sum(n_in) as n_in, sum(n_out) as n_out
    from (select spell_start as d, 1 as n_in, 0 as n_out from dated where $definition = 'orders'
          union all
          select lost_date, 0, 1 from dated where $definition = 'orders' and lost_date is not null)
    group by d
),
stock as (
    -- from orders: active at a day's start = begun before it - lost before it (days x periods, not lifetimes x periods)
    select p.period_start,
           (coalesce(sum(c.n_in) filter (where c.d < p.first_day), 0)
            - coalesce(sum(c.n_out) filter (where c.d < p.first_day), 0))::bigint as n_start,
           (coalesce(sum(c.n_in) filter (where c.d <= p.last_day), 0)
            - coalesce(sum(c.n_out) filter (where c.d <= p.last_day), 0))::bigint as n_end,
           null::double as amt_explicit_base
    from periods p cross join day_counts c
    where $definition = 'orders'
    group by p.period_start
    union all
    -- explicit churn (its dates may disagree): lifetimes x periods
    select p.period_start,
           count(*) filter (where s.spell_start < p.first_day and coalesce(s.lost_date >= p.first_day, true)) as n_start,
           count(*) filter (where s.spell_start <= p.last_day and coalesce(s.lost_date > p.last_day, true)) as n_end,
           sum(12 * s.monthly_revenue) filter (where s.spell_start < p.first_day and coalesce(s.lost_date >= p.first_day, true))
               as amt_explicit_base
    from periods p cross join dated s
    where $definition = 'explicit'
    group by p.period_start
),
gained as (
    -- (each day falls in the period of its month or quarter: an equal join on it, then the period's cut days)
    select p.period_start, count(*) filter (where s.spell_no = 1) as n_new, count(*) filter (where s.spell_no > 1) as n_reactivated
    from periods p
    join dated s on date_trunc($grain, s.spell_start)::date = p.period_start and s.spell_start between p.first_day and p.last_day
    group by p.period_start
),
lost_spells as (
    select p.period_start, p.first_day, s.customer_id, s.spell_start, s.lost_date, s.monthly_revenue
    from periods p
    join dated s on date_trunc($grain, s.lost_date)::date = p.period_start and s.lost_date between p.first_day and p.last_day
),
lost_revenue as (
    -- their revenue in the 365 days before the lost day (revenue_before: refunds lower it): kept at load for the
    -- default rule's lifetimes (mart_spell_revenue), else worked out here from each customer's one row of days;
    -- lost_spells holds only chosen customers, and every day before a lost day is on or before the as-of day
    select l.customer_id, l.lost_date, r.amt_revenue_year_before as amt
    from lost_spells l join mart_spell_revenue r using (customer_id, lost_date)
    where $use_spells_mart
    union all
    select l.customer_id, l.lost_date, revenue_before(r.days, l.lost_date, 365) as amt
    from lost_spells l join mart_customer_revenue_days r using (customer_id)
    where not $use_spells_mart
),
lost as (
    select l.period_start, count(*) as n_lost, count(*) filter (where l.spell_start < l.first_day) as n_lost_from_start,
           if($definition = 'explicit', sum(12 * l.monthly_revenue), coalesce(sum(lr.amt), 0)) as amt_revenue_lost
    from lost_spells l left join lost_revenue lr using (customer_id, lost_date)
    group by l.period_start
),
daily_revenue as (
    -- the chosen customers' revenue per day (refunds lower it): without a filter everybody's, kept per day in
    -- mart_order_dates (its lines with a customer id, the days that have one: mart_order_days' days), with one
    -- the days of the chosen customers, unnested from their one row each of mart_customer_revenue_days (the same days
    -- as mart_order_days; the semi join then meets 800,000 rows at 10M instead of 7.4M). (The constant bounds only
    -- prune: revenue_base reads the days from $start - 365 to the day before the as-of day, on or before $end.)
    select order_date, amt_revenue - amt_revenue_no_customer as amt from mart_order_dates
    where order_date >= $start::date - 365 and order_date < $end::date and n_lines_customer > 0
      and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select x.order_date, sum(x.amt_revenue) as amt
    from (select unnest(r.days) as x from mart_customer_revenue_days r semi join filtered f using (customer_id)
          where len($segment) + len($region) + len($channel) + len($owner) > 0)
    where x.order_date >= $start::date - 365 and x.order_date < $end::date
    group by x.order_date
),
revenue_base as (
    select p.period_start, sum(d.amt) as amt_revenue_base
    from periods p join daily_revenue d on d.order_date between p.first_day - 365 and p.first_day - 1
    group by p.period_start
),
history_start as (
    -- the month of the chosen customers' first order (mart_customers.first_order_on: their first day in
    -- mart_customer_days), counting the customers whose first order month starts by the as-of day
    select min(date_trunc('month', m.first_order_on)::date) as month
    from mart_customers m
    where date_trunc('month', m.first_order_on) <= (select as_of_date from as_of)
      and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select min(date_trunc('month', m.first_order_on)::date)
    from mart_customers m semi join filtered f using (customer_id)
    where date_trunc('month', m.first_order_on) <= (select as_of_date from as_of)
      and len($segment) + len($region) + len($channel) + len($owner) > 0
),
nrr_periods as (
    -- complete periods with two full years of order history before their end
    select * from periods
    where $definition = 'orders' and first_day = period_start and last_day = period_end
      and end_month - interval 23 month >= (select min(month) from history_start)
),
chosen_months as (
    -- the chosen customers' months (mart_customer_months; two branches like revenue_orders in churn_spells)
    -- (up to the month of $end, a constant pushed into the scan: every NRR period ends by then)
    select m.month, m.amt_revenue, m.retained_bits
    from mart_customer_months m
    where m.month <= date_trunc('month', $end::date)
      and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select m.month, m.amt_revenue, m.retained_bits
    from mart_customer_months m semi join filtered f using (customer_id)
    where m.month <= date_trunc('month', $end::date)
      and len($segment) + len($region) + len($channel) + len($owner) > 0
),
month_bits as (
    -- the chosen customers' revenue per month (refunds lower it) and set of periods in which it counts as kept
    select month, retained_bits, sum(amt_revenue) as amt from chosen_months group by all
),
nrr_base as (
    -- revenue in the 12 months before the 12 months to the period end (every customer who bought then)
    select p.period_start, p.end_month, sum(b.amt) as amt
    from nrr_periods p
    join month_bits b on b.month between p.end_month - interval 23 month and p.end_month - interval 12 month
    group by all
),
nrr_kept as (
    -- revenue in the 12 months to the period end from the customers who also bought in the 12 months before:
    -- a month's revenue counts for the period ending j months later when its bit j is set
    select (b.month + to_months(j::integer))::date as end_month, sum(b.amt) as amt
    from month_bits b cross join range(12) as r(j)
    where (b.retained_bits >> j::integer) & 1 = 1
    group by all
),
nrr as (
    -- net revenue retention: revenue in the 12 months to the period end from the customers who bought in
    -- the 12 months before, divided by what they spent then
    select b.period_start, coalesce(k.amt, 0) / nullif(b.amt, 0) as rate_nrr
    from nrr_base b left join nrr_kept k using (end_month)
)
select p.period_start, p.first_day, p.last_day,
       p.first_day = p.period_start and p.last_day = p.period_end as is_complete,
       st.n_start, coalesce(g.n_new, 0) as n_new, coalesce(g.n_reactivated, 0) as n_reactivated,
       coalesce(l.n_lost, 0) as n_lost, coalesce(l.n_lost_from_start, 0) as n_lost_from_start, st.n_end,
       coalesce(l.n_lost_from_start, 0) / nullif(st.n_start, 0) as rate_churn,
       coalesce(l.amt_revenue_lost, 0) as amt_revenue_lost,
       if($definition = 'explicit', st.amt_explicit_base, rb.amt_revenue_base) as amt_revenue_base,
       coalesce(l.amt_revenue_lost, 0)
           / nullif(if($definition = 'explicit', st.amt_explicit_base, rb.amt_revenue_base), 0) as rate_revenue_churn,
       n.rate_nrr
from periods p
join stock st using (period_start)
left join gained g using (period_start)
left join lost l using (period_start)
left join revenue_base rb using (period_start)
left join nrr n using (period_start)
order by p.period_start
