-- churn_at_risk: active customers past their usual gap between orders, scored, with the value at stake (a
--   page of the list)
-- params: $start DATE, $end DATE (inclusive), $min_value DOUBLE,
--   $sort VARCHAR ('score', 'value', 'last_order', 'days'), $limit INTEGER, $offset INTEGER,
--   $definition VARCHAR ('orders' or 'explicit'), $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $use_spells_mart BOOLEAN, $use_churn_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, name, segment, region, owner, last_order, days_since (as-of day - last order),
-- usual_gap (days), lost_on (the day they count as lost without an order), score (days_since / n_days,
--     0-100),
--   amt_at_stake (their revenue in the 365 days to the as-of day, net of refunds: customer_revenue), n_orders_12m, last_complaint_at,
--   last_complaint_category, n_total and amt_total_at_stake (the whole list, for the pager)
with
-- include: churn_spells
at_risk as (
    select s.customer_id, s.last_order, s.usual_gap, s.n_days,
           (select as_of_date from as_of) - s.last_order as days_since
    from spells s
    where not s.is_lost and s.last_order is not null
      and (select as_of_date from as_of) - s.last_order > s.usual_gap
),
recent as (
    -- their revenue (customer_revenue: refunds lower it) and orders in the 365 days to the as-of day: kept at load
    -- for the newest order day (mart_customer_churn)
    select customer_id, amt_revenue as amt, n_orders
    from customer_revenue((select as_of_date from as_of) - 364, (select as_of_date from as_of))
    where customer_id in (select customer_id from at_risk) and not $use_churn_mart
    union all
    select customer_id, amt_12m, n_orders_12m
    from mart_customer_churn
    where $use_churn_mart and customer_id in (select customer_id from at_risk)
),
last_complaint as (
    select customer_id, max(created_at) as created_at, arg_max(category, created_at) as category
    from stg_complaints
    where created_at::date <= (select as_of_date from as_of) and customer_id in (select customer_id from at_risk)
    group by customer_id
),
listed as (
    select a.customer_id, c.name, c.segment, c.region, c.owner, a.last_order, a.days_since,
           round(a.usual_gap, 1) as usual_gap, a.last_order + a.n_days as lost_on,
           round(100.0 * a.days_since / a.n_days) as score,
           coalesce(r.amt, 0) as amt_at_stake, coalesce(r.n_orders, 0) as n_orders_12m,
           k.created_at as last_complaint_at, k.category as last_complaint_category
    from at_risk a
    left join stg_customers c using (customer_id)
    left join recent r using (customer_id)
    left join last_complaint k using (customer_id)
    where coalesce(r.amt, 0) >= $min_value
)
select *, count(*) over () as n_total, sum(amt_at_stake) over () as amt_total_at_stake
from listed
order by case $sort when 'score' then score when 'value' then amt_at_stake when 'days' then days_since end desc nulls last,
         case when $sort = 'last_order' then last_order end asc nulls last,
         amt_at_stake desc, customer_id
limit $limit offset $offset
