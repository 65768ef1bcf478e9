-- clv_forward(margin_year, risk_cost_pct, marketing_cost, factor): a customer's forward lifetime value, the CLV
-- formula of the loyalty ladder (seed 002): the yearly margin less the risk cost share and the yearly marketing
-- cost, times the discounted years they are expected to stay (clv_factor). NULL when the factor is unknown.
create or replace macro clv_forward(margin_year, risk_cost_pct, marketing_cost, factor) as
(margin_year * (1 - risk_cost_pct / 100.0) - marketing_cost) * factor
