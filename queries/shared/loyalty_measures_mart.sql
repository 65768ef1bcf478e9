-- shared piece loyalty_measures_mart: loyalty_customer_measures' `measures` read from mart_loyalty_customers, which
--   keeps them per customer for the default period and settings (queries.run swaps this piece in for
--   loyalty_rung_inputs, and loyalty_measures_kept for the rules and measures, when crmlens.model.default_measures finds
--   every parameter those pieces read equal to the ones the mart was built with)
-- Output: measures, one row per customer, the columns of loyalty_customer_measures.
measures as (
    select * exclude (settings) from mart_loyalty_customers
),
