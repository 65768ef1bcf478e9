-- shared piece loyalty_states_mart: loyalty_rung_rules' `rung_states` read from mart_loyalty_customers, which keeps
--   them per customer for the default period and settings, with the filters applied here (queries.run swaps this
--   piece in for loyalty_rung_inputs, and loyalty_measures_kept for loyalty_rung_rules, when
--   crmlens.model.default_states finds every parameter those two pieces read but the filters equal to the ones the
--   mart was built with: a filter, or a setting only loyalty_customer_measures reads, such as the ABC shares, the CLV
--   or quadrant settings). A customer's rung, state and facts do not depend on the filters (loyalty_rung_rules only
--   keeps the customers in them) nor on those settings; ABC classes, RFM scores, Pareto buckets, quadrants and the
--   retention rank or compare the customers in the view, so loyalty_customer_measures works them out after this.
-- Output: rung_states, one row per customer known by $end and in the filters, the columns of loyalty_rung_rules'.
rung_states as (
    select customer_id, as_of, n_orders, last_ordered_at, amt_revenue_step, step_amt_profit, step_amt_margin,
           step_n_orders_period, step_amt_revenue_period, step_amt_profit_period, step_last_ordered_in_period,
           step_amt_margin_year, step_is_active_year, n_unresolved, n_referrals,
           latest_satisfaction, latest_nps, name, segment, region, channel, owner, is_partner_flag,
           is_consumer_segment, is_in_lifetime, rung, is_lapsed, rung_rank, state
    from mart_loyalty_customers
    where (len($segment) = 0 or list_contains($segment, segment))
      and (len($region) = 0 or list_contains($region, region))
      and (len($channel) = 0 or list_contains($channel, channel))
      and (len($owner) = 0 or list_contains($owner, owner))
),
