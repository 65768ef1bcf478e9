-- loyalty_coverage: which facts the rung rules and value measures can read in this data
-- params: (none)
-- returns: one row: n_customer_rows, n_partner_flags (is_partner filled in), n_partners (true), n_referred
--   (referred_by filled in),
-- n_orders, n_orders_with_cost, n_surveys, n_surveys_satisfaction, n_surveys_nps, n_complaints_with_customer,
--     n_opportunities_with_customer
select
    (select count(*) from stg_customers) as n_customer_rows,
    (select count(is_partner) from stg_customers) as n_partner_flags,
    (select count(*) filter (where is_partner) from stg_customers) as n_partners,
    (select count(referred_by) from stg_customers) as n_referred,
    (select coalesce(sum(n_lines), 0) from mart_order_dates) as n_orders,
    (select coalesce(sum(n_lines_with_cost), 0) from mart_order_dates) as n_orders_with_cost,
    (select count(*) from stg_surveys) as n_surveys,
    (select count(satisfaction) from stg_surveys) as n_surveys_satisfaction,
    (select count(nps) from stg_surveys) as n_surveys_nps,
    (select count(customer_id) from stg_complaints) as n_complaints_with_customer,
    (select count(customer_id) from stg_opportunities) as n_opportunities_with_customer
