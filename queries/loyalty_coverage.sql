-- loyalty_coverage: which facts the rung rules and value measures can read in this data
-- params: (none)
-- returns: one row: n_customer_rows, n_partner_flags (is_partner filled in), n_partners (true), n_referred
--   (referred_by filled in),
-- n_orders, n_orders_with_cost, n_surveys, n_surveys_satisfaction, n_surveys_nps, n_complaints_with_customer,
--     n_opportunities_with_customer
-- one pass over each staging view (each subquery of a select list is a scan of its own: four of stg_customers, which
--   joins the owners, and three of stg_surveys before)
select c.n_customer_rows, c.n_partner_flags, c.n_partners, c.n_referred, d.n_orders, d.n_orders_with_cost,
       s.n_surveys, s.n_surveys_satisfaction, s.n_surveys_nps,
       (select count(customer_id) from stg_complaints) as n_complaints_with_customer,
       (select count(customer_id) from stg_opportunities) as n_opportunities_with_customer
from (select count(*) as n_customer_rows, count(is_partner) as n_partner_flags,
             count(*) filter (where is_partner) as n_partners, count(referred_by) as n_referred
      from stg_customers) c,
     (select coalesce(sum(n_lines), 0) as n_orders, coalesce(sum(n_lines_with_cost), 0) as n_orders_with_cost
      from mart_order_dates) d,
     (select count(*) as n_surveys, count(satisfaction) as n_surveys_satisfaction, count(nps) as n_surveys_nps
      from stg_surveys) s
