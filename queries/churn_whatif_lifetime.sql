-- churn_whatif_lifetime: the what-if over the customers' lifetime: the discounted years a customer stays
--   (clv_factor, the Loyalty ladder's CLV formula) at today's yearly retention and at the retention after the cut
-- params: $retention_before DOUBLE (1 - the 12-month churn rate), $retention_after DOUBLE,
--   $discount_rate DOUBLE (% a year), $horizon_years INTEGER
-- returns: one row: factor_before, factor_after
select clv_factor($retention_before::double, $discount_rate::double, $horizon_years::integer) as factor_before,
       clv_factor($retention_after::double, $discount_rate::double, $horizon_years::integer) as factor_after
