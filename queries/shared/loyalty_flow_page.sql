-- shared piece loyalty_flow_page: one page of the customers who moved from $from_state at $from_date to $to_state
--   at $to_date
-- Input: rung_states (loyalty_rung_rules) at the two dates. Output: flow_page, loyalty_flow_customers' columns,
-- at most $limit rows from $offset on, by revenue between the dates (highest first), then customer id.
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
),
flow_page as (
    select customer_id, name, from_state as from_rung, to_state as to_rung, amt_revenue_between, n_orders,
           last_ordered_at, segment, channel, owner, from_state, to_state, latest_satisfaction, latest_nps,
           n_unresolved, n_referrals, count(*) over () as n_matching
    from pairs
    where from_state = $from_state and to_state = $to_state
    order by amt_revenue_between desc, customer_id
    limit $limit offset $offset
),
