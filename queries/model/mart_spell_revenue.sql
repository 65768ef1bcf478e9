-- mart_spell_revenue: each lost lifetime of mart_customer_spells (the default churn rule) with the customer's revenue
--   in the 365 days before the day it was lost (revenue_before): the churn bucket's lost revenue, kept at load
-- grain: customer_id, lost_date (a lost lifetime with revenue in that year); source: mart_customer_spells,
--   mart_customer_revenue_days
create or replace table mart_spell_revenue as
select s.customer_id, s.lost_date, revenue_before(r.days, s.lost_date, 365) as amt_revenue_year_before
from mart_customer_spells s
join mart_customer_revenue_days r using (customer_id)
where s.is_lost and s.lost_date is not null and in_build_scope(s.customer_id)
  and revenue_before(r.days, s.lost_date, 365) is not null
