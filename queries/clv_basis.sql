-- clv_basis: what the lifetime value (CLV) reckons with at $end, for the customers the filters keep: the yearly
--   retention (clv_retention: 1 - the 12-month churn rate) and the margin a year per customer who bought in the last
--   365 days. The Loyalty ladder's total row and the Churn page's what-if read these same figures (a test compares
--   them).
-- params: $start DATE, $end DATE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE (the lost rule), $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: one row: n_prev_active, n_retained, rate_retention (NULL when nobody was active a year before),
--   n_active_year (bought in the last 365 days), amt_margin_year_per_active (order_margin over those days)
with
-- include: loyalty_order_facts_days
spells as materialized (
    select customer_id, spell_start, lost_date
    from lifetimes(period_as_of($end), $churn_days, $churn_multiplier, $use_spells_mart)
),
active_now as (
    select distinct customer_id from spells
    where spell_start <= $end::date and (lost_date is null or lost_date > $end::date)
),
-- include: lifetime_year_ago
base as (
    select coalesce(o.step_is_active_year, false) as is_active_year,
           coalesce(o.step_amt_margin_year, 0) as amt_margin_year,
           a.customer_id is not null as is_in_lifetime,
           y.customer_id is not null as was_active_year_ago
    from order_facts o
    left join stg_customers c using (customer_id)
    left join active_now a using (customer_id)
    left join year_ago_customers y using (customer_id)
    where o.customer_id is not null
      and (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
      and (len($channel) = 0 or list_contains($channel, c.channel))
      and (len($owner) = 0 or list_contains($owner, c.owner))
),
-- include: clv_retention
active_year as (
    select count(*) filter (where is_active_year) as n_active_year,
           sum(amt_margin_year) filter (where is_active_year) as amt_margin_year_active
    from base
)
select r.n_prev_active, r.n_retained, r.rate_retention, a.n_active_year,
       a.amt_margin_year_active / nullif(a.n_active_year, 0) as amt_margin_year_per_active
from retention r, active_year a
