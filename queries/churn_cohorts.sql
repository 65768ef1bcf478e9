-- churn_cohorts: retention by first-order month: share of the cohort (customers, and their first-month
--   revenue) active k months later
-- params: $start DATE, $end DATE (inclusive),
--   $mode VARCHAR ('in': ordered in month k; 'or_later': ordered in month k or any later month),
--   $churn_days INTEGER, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[]
-- returns: one row per cohort and month k up to the as-of day: cohort_month, k, n_cohort, n_active,
--   rate_customers (n_active / n_cohort), amt_cohort (the cohort's revenue in its first month, net of refunds),
-- amt_active (first-month revenue of the customers active), rate_revenue, is_unfinished (month k not over
--     yet;
--   'or_later': also the last $churn_days days, in which a quiet customer may still come back)
with filtered as (
    -- include: churn_customer_filter
),
as_of as materialized (
    -- the period end, or the newest order (a guest's too) before it
    select least($end::date, max(order_date)) as as_of_date from mart_order_dates
    where n_orders > 0
),
whole_months as materialized (
    -- the first month not wholly on or before $end: the month of $end, or the next one when $end is its last day
    select date_trunc('month', $end::date + 1)::date as first_cut
),
all_months as (
    -- each customer's orders and revenue (refunds lower it) per month up to $end: whole months from
    -- mart_customer_months, the days of a cut month from mart_order_days
    select customer_id, month, n_orders, amt_revenue as amt
    from mart_customer_months
    where month < (select first_cut from whole_months)
    union all
    select customer_id, date_trunc('month', order_date)::date as month, sum(n_orders), sum(amt_revenue) as amt
    from mart_order_days
    where order_date >= (select first_cut from whole_months) and order_date <= $end::date
    group by all
),
customer_months as materialized (
    -- the chosen customers' months (two branches, one pruned by the bound filter parameters)
    select customer_id, month, n_orders, amt from all_months
    where len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select customer_id, month, n_orders, amt from all_months semi join filtered f using (customer_id)
    where len($segment) + len($region) + len($channel) + len($owner) > 0
),
cohorts as (
    -- a cohort: the first month with an order, and the revenue of that month (a month with a refund only starts none)
    select customer_id, min(month) filter (where n_orders > 0) as cohort_month,
           arg_min(amt, month) filter (where n_orders > 0) as amt_first
    from customer_months group by customer_id
    having min(month) filter (where n_orders > 0) >= date_trunc('month', $start::date)
),
activity as (
    select c.customer_id, c.cohort_month, c.amt_first, datediff('month', c.cohort_month, m.month) as k
    from cohorts c join customer_months m using (customer_id)
    where m.n_orders > 0
),
grid as (
    select cohort_month, count(*) as n_cohort, sum(amt_first) as amt_cohort,
           unnest(range(0, datediff('month', cohort_month, (select as_of_date from as_of)) + 1)) as k
    from cohorts group by cohort_month
),
active_in as (
    select cohort_month, k, count(*) as n_active, sum(amt_first) as amt_active from activity group by all
),
last_k as (
    select cohort_month, amt_first, max(k) as max_k from activity group by customer_id, cohort_month, amt_first
),
active_or_later as (
    select g.cohort_month, g.k, count(*) as n_active, sum(l.amt_first) as amt_active
    from grid g join last_k l on l.cohort_month = g.cohort_month and l.max_k >= g.k
    group by all
)
select g.cohort_month, g.k, g.n_cohort,
       coalesce(if($mode = 'in', i.n_active, o.n_active), 0) as n_active,
       coalesce(if($mode = 'in', i.n_active, o.n_active), 0) / g.n_cohort as rate_customers,
       g.amt_cohort,
       coalesce(if($mode = 'in', i.amt_active, o.amt_active), 0) as amt_active,
       coalesce(if($mode = 'in', i.amt_active, o.amt_active), 0) / nullif(g.amt_cohort, 0) as rate_revenue,
       (g.cohort_month + to_months(g.k::integer) + interval 1 month)::date - 1 > (select as_of_date from as_of)
           or ($mode = 'or_later'
               and (g.cohort_month + to_months(g.k::integer))::date > (select as_of_date from as_of) - $churn_days)
           as is_unfinished
from grid g
left join active_in i using (cohort_month, k)
left join active_or_later o using (cohort_month, k)
order by g.cohort_month, g.k
