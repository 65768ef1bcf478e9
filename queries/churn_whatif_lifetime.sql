-- churn_whatif_lifetime: the what-if over the customers' lifetime: the discounted years a customer stays
--   (clv_factor) and the CLV per customer (clv_forward, the Loyalty ladder's CLV formula) at today's yearly
--   retention and at the retention after the cut
-- params: $retention_before DOUBLE (clv_basis: the yearly retention), $retention_after DOUBLE (raised by the points
--   cut off the churn rate), $discount_rate DOUBLE (% a year), $horizon_years INTEGER, $margin_year DOUBLE (clv_basis:
--   margin a year per customer who bought in the last 365 days), $risk_cost_pct DOUBLE, $marketing_cost DOUBLE (a
--   year per customer)
-- returns: one row: factor_before, factor_after, amt_clv_before, amt_clv_after
with factors as (
    select clv_factor($retention_before::double, $discount_rate::double, $horizon_years::integer) as factor_before,
           clv_factor($retention_after::double, $discount_rate::double, $horizon_years::integer) as factor_after
)
select factor_before, factor_after,
       clv_forward($margin_year::double, $risk_cost_pct::double, $marketing_cost::double, factor_before) as amt_clv_before,
       clv_forward($margin_year::double, $risk_cost_pct::double, $marketing_cost::double, factor_after) as amt_clv_after
from factors
