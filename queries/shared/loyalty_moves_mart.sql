-- shared piece loyalty_moves_mart: loyalty_moves_counted's `moves_counted` read from mart_loyalty_moves, which counts the
--   moves per filter value at the default period, grain and settings (queries.run swaps this piece in for
--   loyalty_rung_inputs, and loyalty_moves_kept for the pieces after it, when crmlens.model.default_moves finds every
--   parameter they read equal to the ones the mart was built with; the filters apply here)
-- Output: moves_counted, the columns of loyalty_moves_counted.
moves_counted as (
    select from_date, to_date, from_state, to_state, direction,
           sum(n_customers)::bigint as n_customers, sum(amt_revenue) as amt_revenue
    from mart_loyalty_moves
    where (len($segment) = 0 or list_contains($segment, segment))
      and (len($region) = 0 or list_contains($region, region))
      and (len($channel) = 0 or list_contains($channel, channel))
      and (len($owner) = 0 or list_contains($owner, owner))
    group by all
),
