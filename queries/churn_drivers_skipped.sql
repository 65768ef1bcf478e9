-- churn_drivers_skipped: customer columns the drivers tab leaves out because they hold more distinct values
--   than it compares (ids, free text, amounts): named on the page instead of dropped silently
-- params: $max_levels INTEGER (the drivers query's limit)
-- returns: attribute, n_values (distinct non-blank values in the customer table); by attribute
with customer_columns as (
    select customer_id,
           columns(* exclude (customer_id, name, signup_date, referred_by, churned, churn_date,
                              tenure_months, monthly_revenue))::varchar
    from stg_customers
),
customer_values as (
    select attribute, value
    from customer_columns unpivot (value for attribute in (columns(* exclude (customer_id))))
)
select attribute, count(distinct value) as n_values
from customer_values
group by attribute
having count(distinct value) > $max_levels
order by attribute
