-- loyalty_flow_customers: one page of the customers who moved from one ladder state to another between two
--   dates
-- params: $start DATE, $end DATE (read by the shared rung block; only the two dates matter here),
--   $from_date DATE, $to_date DATE, $from_state VARCHAR ('new', a rung or 'lost'), $to_state VARCHAR,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[], $use_partner_flag BOOLEAN,
--   $nps_advocate_min DOUBLE, $min_referrals INTEGER, $min_orders_client INTEGER, $satisfaction_min DOUBLE,
--   $nps_supporter_min DOUBLE, $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $limit INTEGER, $offset INTEGER, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, name, from_rung, to_rung (where the customer stood at each date as the ladder shows
--   it: a rung, 'lost' for a customer who had left, 'new' before we knew them), amt_revenue_between (revenue
--   dated after from_date up to to_date, refunds netted, 0 when nothing), n_orders, last_ordered_at, segment,
--   channel, owner, from_state, to_state, latest_satisfaction, latest_nps, n_unresolved, n_referrals,
--   n_matching
with dates(as_of) as (
    select distinct d from unnest([$from_date::date, $to_date::date]) as t(d)
),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- one row per customer with its state at both dates (rung_states read once)
pairs as (
    select customer_id,
           any_value(name) as name, any_value(segment) as segment, any_value(channel) as channel, any_value(owner) as owner,
           coalesce(max(state) filter (where as_of = $from_date::date), 'new') as from_state,
           max(state) filter (where as_of = $to_date::date) as to_state,
           max(n_orders) filter (where as_of = $to_date::date) as n_orders,
           max(last_ordered_at) filter (where as_of = $to_date::date) as last_ordered_at,
           coalesce(max(amt_revenue_step) filter (where as_of = $to_date::date), 0) as amt_revenue_between,
           max(latest_satisfaction) filter (where as_of = $to_date::date) as latest_satisfaction,
           max(latest_nps) filter (where as_of = $to_date::date) as latest_nps,
           max(n_unresolved) filter (where as_of = $to_date::date) as n_unresolved,
           max(n_referrals) filter (where as_of = $to_date::date) as n_referrals
    from rung_states
    group by customer_id
    having count(*) filter (where as_of = $to_date::date) > 0
)
select customer_id, name, from_state as from_rung, to_state as to_rung, amt_revenue_between, n_orders,
       last_ordered_at, segment, channel, owner, from_state, to_state, latest_satisfaction, latest_nps,
       n_unresolved, n_referrals, count(*) over () as n_matching
from pairs
where from_state = $from_state and to_state = $to_state
order by amt_revenue_between desc, customer_id
limit $limit offset $offset
