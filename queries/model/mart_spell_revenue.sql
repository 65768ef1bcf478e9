-- mart_spell_revenue: each lost lifetime of mart_customer_spells (the default churn rule) with the customer's revenue
--   in the 365 days before the day it was lost: the churn bucket's lost revenue, kept at load instead of joining every
--   lost customer to their order days on each view
-- grain: customer_id, lost_date (a lost lifetime with revenue in that year); source: mart_customer_spells,
--   mart_order_days (amt_revenue: refunds lower it, as customer_revenue sums it)
create or replace table mart_spell_revenue as
select s.customer_id, s.lost_date, sum(d.amt_revenue) as amt_revenue_year_before
from mart_customer_spells s
join mart_order_days d
    on d.customer_id = s.customer_id and d.order_date >= s.lost_date - 365 and d.order_date < s.lost_date
where s.is_lost and s.lost_date is not null and in_build_scope(s.customer_id)
group by s.customer_id, s.lost_date
