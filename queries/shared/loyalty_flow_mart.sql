-- shared piece loyalty_flow_mart: loyalty_flow_page's `flow_page` read from mart_loyalty_customer_moves (each
--   customer's move between two dates next to each other at the default period and settings) and, for the customers
--   of the page only, their rung facts at $to_date from mart_loyalty_months (queries.run swaps this piece in for
--   loyalty_rung_inputs, and loyalty_moves_kept for the pieces after it, when crmlens.model.default_moves finds the
--   settings and the two dates kept there; the filters apply here)
-- Output: flow_page, the columns of loyalty_flow_page.
flow_rows as (
    select customer_id, from_state, to_state, coalesce(amt_revenue_step, 0) as amt_revenue_between,
           count(*) over () as n_matching
    from mart_loyalty_customer_moves
    where to_date = $to_date::date and from_date = $from_date::date
      and from_state = $from_state and to_state = $to_state
      and (len($segment) = 0 and len($region) = 0 and len($channel) = 0 and len($owner) = 0
           or customer_id in (select customer_id from stg_customers
                              where (len($segment) = 0 or list_contains($segment, segment))
                                and (len($region) = 0 or list_contains($region, region))
                                and (len($channel) = 0 or list_contains($channel, channel))
                                and (len($owner) = 0 or list_contains($owner, owner))))
    order by amt_revenue_between desc, customer_id
    limit $limit offset $offset
),
-- the page's customers as loyalty_rung_rules joins them (stg_customers)
flow_profile as (
    select customer_id, any_value(name) as name, any_value(segment) as segment, any_value(channel) as channel,
           any_value(owner) as owner
    from stg_customers
    where customer_id in (select customer_id from flow_rows)
    group by customer_id
),
-- the survey window at $to_date as loyalty_rung_rules applies it (an undated survey always counts)
flow_page as (
    select f.customer_id, c.name, f.from_state as from_rung, f.to_state as to_rung, f.amt_revenue_between,
           m.n_orders, m.last_ordered_at, c.segment, c.channel, c.owner, f.from_state, f.to_state,
           if(m.latest_satisfaction_day = date '0001-01-01' or m.as_of - m.latest_satisfaction_day <= $survey_days,
              m.latest_satisfaction_seen, null) as latest_satisfaction,
           if(m.latest_nps_day = date '0001-01-01' or m.as_of - m.latest_nps_day <= $survey_days,
              m.latest_nps_seen, null) as latest_nps,
           m.n_unresolved, m.n_referrals, f.n_matching
    from flow_rows f
    left join mart_loyalty_months m on m.customer_id = f.customer_id and m.as_of = $to_date::date
    left join flow_profile c on c.customer_id = f.customer_id
),
