-- churn_summary: the period's churn rate, active and at-risk customers, and the figures the what-if starts
--   from
-- params: $start DATE, $end DATE (inclusive), $definition VARCHAR ('orders' or 'explicit'),
--   $churn_days INTEGER, $churn_multiplier DOUBLE, $segment VARCHAR[], $region VARCHAR[],
--   $channel VARCHAR[], $owner VARCHAR[], $margin_fallback DOUBLE, $use_spells_mart BOOLEAN,
--   $use_churn_mart BOOLEAN (both set by crmlens.model; the latter: the as-of day is the newest order day, whose
--   12-month figures and usual gaps mart_customer_churn keeps)
-- returns: one row: as_of_date,
--   n_start (customers active at the period's start: a lifetime begun before $start and not ended before it),
--   n_lost_from_start (of those, lost in the period), n_lost (every departure in the period, new customers'
--   too: the leaky bucket's lost summed over its periods), n_lost_new (n_lost - n_lost_from_start),
--   rate_churn: THE period churn rate, n_lost_from_start / n_start (textbook: lost in the period / active at its
--   start); explicit churn without any dates cannot be placed in time: then n_churned / n_customers and
--   is_rate_undated,
--   n_customers (active at some time in the period), n_churned (their latest lifetime ended in the period),
--   rate_churn_any (n_churned / n_customers: the share of the period's customers lost), n_active (at the as-of day), n_at_risk (active, past their usual
--   gap), n_base_12m (active 365 days before the as-of day), n_kept_12m (of those, active at the as-of day),
--   rate_churn_12m, amt_revenue_12m (revenue of the active customers in the 365 days to the as-of day, net of refunds:
--   customer_revenue; explicit: 12 x monthly revenue), rate_margin (order_margin / revenue over those 365 days: each
--   line's cost, else $margin_fallback; NULL when no line has a cost),
--   usual_gap_all (everybody's median gap between order days, used for one-day customers)
with
-- include: churn_spells
active_now as (
    select * from spells
    where not is_lost and coalesce(spell_start <= (select as_of_date from as_of), true)
),
year_ago as (
    -- (no distinct: a customer's lifetimes do not overlap, the next one begins after the day the last was lost, so at
    --  most one of them is active on a day)
    select customer_id from spells
    where spell_start <= (select as_of_date from as_of) - 365
      and coalesce(lost_date > (select as_of_date from as_of) - 365, not is_lost)
),
recent_customers as (
    -- the chosen customers' revenue in the 365 days to the as-of day (customer_revenue: refunds lower it) with the
    -- margin's parts; kept at load for the newest order day in mart_customer_churn, whose row without a customer
    -- holds the guest orders, which only the unfiltered margin counts (two branches each, as revenue_orders)
    select r.customer_id, r.amt_revenue as amt_12m, r.amt_profit as amt_margin_cost_12m,
           r.amt_revenue_no_cost as amt_no_cost_12m, r.amt_profit is not null as has_cost_12m
    from customer_revenue((select as_of_date from as_of) - 364, (select as_of_date from as_of)) r
    where not $use_churn_mart and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select r.customer_id, r.amt_revenue, r.amt_profit, r.amt_revenue_no_cost, r.amt_profit is not null
    from customer_revenue((select as_of_date from as_of) - 364, (select as_of_date from as_of)) r
    semi join filtered f using (customer_id)
    where not $use_churn_mart and len($segment) + len($region) + len($channel) + len($owner) > 0
    union all
    -- (the guests' lines, by the same rule as the mart's guests' row: the unfiltered margin counts them)
    select null, sum(o.amt_revenue), sum(o.amt_revenue - o.cost), sum(o.amt_revenue) filter (where o.cost is null),
           count(o.cost) > 0
    from stg_orders o
    where not $use_churn_mart and len($segment) + len($region) + len($channel) + len($owner) = 0
      and o.customer_id is null and not o.is_void
      and o.order_date > (select as_of_date from as_of) - 365 and o.order_date <= (select as_of_date from as_of)
    having count(*) > 0
    union all
    select m.customer_id, m.amt_12m, m.amt_margin_cost_12m, m.amt_no_cost_12m, m.has_cost_12m
    from mart_customer_churn m
    where $use_churn_mart and len($segment) + len($region) + len($channel) + len($owner) = 0
    union all
    select m.customer_id, m.amt_12m, m.amt_margin_cost_12m, m.amt_no_cost_12m, m.has_cost_12m
    from mart_customer_churn m semi join filtered f using (customer_id)
    where $use_churn_mart and len($segment) + len($region) + len($channel) + len($owner) > 0
),
order_gaps as (
    -- the chosen customers' gaps between order days up to the as-of day, for their median (usual_gap_all);
    -- without a filter at the newest order day it is kept in mart_customer_churn
    select gap_before from revenue_orders
    where $definition = 'orders' and not ($use_churn_mart and len($segment) + len($region) + len($channel) + len($owner) = 0)
),
dated as (
    -- lifetimes placed in time, as the leaky bucket counts them (churn_bucket.sql)
    select * from spells where spell_start is not null and not (is_lost and lost_date is null)
),
textbook as (
    select count(*) filter (where spell_start < $start::date and coalesce(lost_date >= $start::date, true)) as n_start,
           count(*) filter (where spell_start < $start::date and lost_date between $start::date and (select as_of_date from as_of))
               as n_lost_from_start,
           count(*) filter (where lost_date between $start::date and (select as_of_date from as_of)) as n_lost,
           count(*) as n_dated
    from dated
)
select (select as_of_date from as_of) as as_of_date,
       tb.n_start, tb.n_lost_from_start, tb.n_lost, tb.n_lost - tb.n_lost_from_start as n_lost_new,
       tb.n_dated = 0 as is_rate_undated,
       if(tb.n_dated = 0,
          (select count(*) filter (where churned) / nullif(count(*), 0) from customer_status),
          tb.n_lost_from_start / nullif(tb.n_start, 0)) as rate_churn,
       (select count(*) from customer_status) as n_customers,
       (select count(*) filter (where churned) from customer_status) as n_churned,
       (select count(*) filter (where churned) / nullif(count(*), 0) from customer_status) as rate_churn_any,
       (select count(*) from active_now) as n_active,
       (select count(*) filter (where (select as_of_date from as_of) - last_order > usual_gap) from active_now) as n_at_risk,
       (select count(*) from year_ago) as n_base_12m,
       (select count(*) from year_ago semi join active_now using (customer_id)) as n_kept_12m,
       1 - (select count(*) from year_ago semi join active_now using (customer_id)) / nullif((select count(*) from year_ago), 0)
           as rate_churn_12m,
       case when $definition = 'explicit' then (select 12 * sum(monthly_revenue) from active_now)
            else (select sum(amt_12m) from recent_customers semi join active_now using (customer_id)) end as amt_revenue_12m,
       -- order_margin(revenue, cost, NULL, fallback) line by line is revenue - cost, else fallback x revenue: its sum
       -- is the sum of those two parts (as the loyalty page sums them)
       (select (coalesce(sum(amt_margin_cost_12m), 0) + $margin_fallback * coalesce(sum(amt_no_cost_12m), 0))
               / nullif(sum(amt_12m), 0)
        from recent_customers having bool_or(has_cost_12m)) as rate_margin,
       coalesce((select median(gap_before) filter (where gap_before > 0) from order_gaps),
                (select max(usual_gap_all) from mart_customer_churn
                 where $definition = 'orders' and $use_churn_mart
                   and len($segment) + len($region) + len($channel) + len($owner) = 0)) as usual_gap_all
from textbook tb
