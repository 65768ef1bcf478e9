-- shared piece loyalty_moves_counted: the customers and their revenue per move (loyalty_movements' rows)
-- Input: customer_moves (loyalty_customer_moves). Output: moves_counted, one row per from_date, to_date,
-- from_state, to_state (and its direction): n_customers, amt_revenue.
moves_counted as (
    select from_date, to_date, from_state, to_state, direction,
           count(*) as n_customers, sum(amt_revenue_step) as amt_revenue
    from customer_moves
    group by all
),
