-- clv_factor(retention, discount_pct, horizon_years): the discounted years a customer is expected to stay, the
-- factor the yearly margin is multiplied by in the CLV formula: sum over t = 1..H of (r / (1 + d))^t
-- (q = r / (1 + d); H when q = 1, else q (1 - q^H) / (1 - q)); NULL when the retention is unknown
create or replace macro clv_factor(retention, discount_pct, horizon_years) as
case
    when retention is null then null
    when retention / (1 + discount_pct / 100.0) = 1 then horizon_years::double
    else (retention / (1 + discount_pct / 100.0)) * (1 - pow(retention / (1 + discount_pct / 100.0), horizon_years))
         / (1 - retention / (1 + discount_pct / 100.0))
end
