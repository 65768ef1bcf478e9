-- mart_customer_spells: customer_spells as of the newest order day with the default churn rule, kept at load
-- grain: customer_id, spell_no; source: customer_spells (mart_customer_days)
-- params: $churn_days INTEGER, $churn_multiplier DOUBLE (the pages' defaults)
create or replace table mart_customer_spells as
select *
from customer_spells((select max(order_date) from mart_customer_days), $churn_days, $churn_multiplier)
where in_build_scope(customer_id)
