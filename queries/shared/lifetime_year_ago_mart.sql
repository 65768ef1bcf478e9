-- shared piece lifetime_year_ago_mart: lifetime_year_ago's customers read from mart_loyalty_customers, which keeps
--   the flag per customer at the default period and lost rule (queries.run swaps this piece in with
--   loyalty_states_mart, whose conditions are those)
-- Output: year_ago_customers(customer_id), one row per customer.
year_ago_customers as (
    select customer_id from mart_loyalty_customers where was_active_year_ago
),
