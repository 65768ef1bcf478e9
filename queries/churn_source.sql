-- churn_source: which churn data is loaded: explicit churn columns in customers, and order history
-- params:
-- returns: one row: n_customers, n_churn_flag (churned filled in), n_churned (churned = yes), n_churn_date,
--   n_churn_unknown (churned blank, no churn date, while other customers have the flag: left out), n_tenure,
--   n_signup, n_monthly_revenue, n_orders (completed), first_order, last_order
select count(*) as n_customers,
       count(churned) as n_churn_flag,
       count(*) filter (where churned) as n_churned,
       count(churn_date) as n_churn_date,
       if(count(churned) > 0, count(*) filter (where churned is null and churn_date is null), 0) as n_churn_unknown,
       count(tenure_months) as n_tenure,
       count(signup_date) as n_signup,
       count(monthly_revenue) as n_monthly_revenue,
       coalesce((select sum(n_orders) from mart_customers), 0) as n_orders,
       (select min(first_order_on) from mart_customers) as first_order,
       (select max(last_order_on) from mart_customers) as last_order
from stg_customers
