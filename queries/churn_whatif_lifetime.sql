-- churn_whatif_lifetime: the what-if over the customers' lifetime: the discounted years a customer stays
--   (clv_factor) and the CLV per customer (clv_forward, the Loyalty ladder's CLV formula) at today's yearly
--   retention and at the retention after the cut
-- params: $retention_before DOUBLE (1 - the 12-month churn rate), $retention_after DOUBLE,
--   $discount_rate DOUBLE (% a year), $horizon_years INTEGER, $margin_year DOUBLE (margin a year per active
--   customer), $risk_cost_pct DOUBLE, $marketing_cost DOUBLE (a year per customer)
-- returns: one row: factor_before, factor_after, amt_clv_before, amt_clv_after
with factors as (
    select clv_factor($retention_before::double, $discount_rate::double, $horizon_years::integer) as factor_before,
           clv_factor($retention_after::double, $discount_rate::double, $horizon_years::integer) as factor_after
)
select factor_before, factor_after,
       clv_forward($margin_year::double, $risk_cost_pct::double, $marketing_cost::double, factor_before) as amt_clv_before,
       clv_forward($margin_year::double, $risk_cost_pct::double, $marketing_cost::double, factor_after) as amt_clv_after
from factors
