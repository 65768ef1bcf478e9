-- shared piece loyalty_order_facts_period: loyalty_order_facts_days read from mart_customer_period, which keeps them
--   per customer for the default period (the 365 days up to the newest date in the data; crmlens.model.use_period_mart
--   checks $start and $end are those days before queries.run swaps this piece in). The margin setting applies here:
--   the mart keeps its parts (revenue, amount - cost of the lines with a cost, revenue of the lines without one).
order_facts as (
    select customer_id, n_orders, last_ordered_at, amt_revenue,
           amt_profit as step_amt_profit,
           if($margin_rate is null, coalesce(amt_profit, 0) + coalesce(amt_revenue_no_cost, 0) * $margin_fallback,
              amt_revenue * $margin_rate) as step_amt_margin,
           n_orders_period as step_n_orders_period,
           amt_revenue_period as step_amt_revenue_period,
           amt_profit_period as step_amt_profit_period,
           last_ordered_in_period as step_last_ordered_in_period,
           -- the default period is the year up to $end
           if(amt_revenue_period is null, null,
              if($margin_rate is null,
                 coalesce(amt_profit_period, 0) + coalesce(amt_revenue_no_cost_period, 0) * $margin_fallback,
                 amt_revenue_period * $margin_rate)) as step_amt_margin_year,
           coalesce(n_orders_period, 0) > 0 as step_is_active_year
    from mart_customer_period
    where as_of = $end::date and as_of - 364 = $start::date
),
