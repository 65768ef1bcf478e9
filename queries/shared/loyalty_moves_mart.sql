-- shared piece loyalty_moves_mart: loyalty_moves_counted's `moves_counted` read from the moves kept at load for the
--   default period, grain and settings (queries.run swaps this piece in for loyalty_rung_inputs, and loyalty_moves_kept
--   for the pieces after it, when crmlens.model.default_moves finds every parameter they read but the filters equal to
--   the ones the marts were built with): without a filter mart_loyalty_moves as it is; with one, the moves of
--   mart_loyalty_customer_moves of the customers in it (stg_customers, joined as loyalty_rung_rules joins them)
-- Output: moves_counted, the columns of loyalty_moves_counted.
unfiltered(is_unfiltered) as (
    select len($segment) = 0 and len($region) = 0 and len($channel) = 0 and len($owner) = 0
),
in_filters as (
    select customer_id
    from stg_customers
    where (len($segment) = 0 or list_contains($segment, segment))
      and (len($region) = 0 or list_contains($region, region))
      and (len($channel) = 0 or list_contains($channel, channel))
      and (len($owner) = 0 or list_contains($owner, owner))
),
moves_counted as (
    select from_date, to_date, from_state, to_state, direction, n_customers, amt_revenue
    from mart_loyalty_moves
    where (select is_unfiltered from unfiltered)
    union all
    select m.from_date, m.to_date, m.from_state, m.to_state, m.direction,
           count(*) as n_customers, sum(m.amt_revenue_step) as amt_revenue
    from mart_loyalty_customer_moves m
    join in_filters f on f.customer_id = m.customer_id
    where not (select is_unfiltered from unfiltered)
    group by all
),
