-- shared piece loyalty_order_facts_days: each customer's order facts up to $end, in the period [$start, $end], in the
--   year up to $end, summed from mart_order_days (any period and margin setting)
-- Output: order_facts, one row per customer with a counting order line up to $end. Margin: order_margin summed per
-- day: a typed $margin_rate x the revenue, else amount - cost where a line has a cost plus $margin_fallback x the
-- revenue of the lines without one. loyalty_order_facts_period holds the same figures at the default period.
order_facts as (
    select customer_id,
           sum(n_orders)::bigint as n_orders,
           max(order_date) filter (where n_orders > 0) as last_ordered_at,
           sum(amt_revenue) as amt_revenue,
           sum(amt_profit) as step_amt_profit,
           sum(if($margin_rate is null, coalesce(amt_profit, 0) + coalesce(amt_revenue_no_cost, 0) * $margin_fallback,
                  amt_revenue * $margin_rate)) as step_amt_margin,
           (sum(n_orders) filter (where order_date >= $start))::bigint as step_n_orders_period,
           sum(amt_revenue) filter (where order_date >= $start) as step_amt_revenue_period,
           sum(amt_profit) filter (where order_date >= $start) as step_amt_profit_period,
           max(order_date) filter (where n_orders > 0 and order_date >= $start) as step_last_ordered_in_period,
           sum(if($margin_rate is null, coalesce(amt_profit, 0) + coalesce(amt_revenue_no_cost, 0) * $margin_fallback,
                  amt_revenue * $margin_rate))
               filter (where order_date > $end::date - 365) as step_amt_margin_year,
           bool_or(n_orders > 0 and order_date > $end::date - 365) as step_is_active_year
    from mart_order_days
    where order_date <= $end::date
    group by customer_id
),
