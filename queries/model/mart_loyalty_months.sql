-- mart_loyalty_months: loyalty_rung_inputs kept at load at every month end, for the loyalty page's movements,
--   flows and climbs (loyalty_rung_inputs_mart reads it; the rules, filters, survey window and lifetimes still
--   apply when a query runs, so every setting gives the same answer as the live inputs)
-- grain: customer_id, as_of, for every customer known by as_of; as_of: each month end from the one before the
--   first order's month up to the month end after the newest date in the data (crmlens.period.latest_data_date: orders,
--   opportunities and their stages, complaints, surveys; the default period ends there), that date itself and
--   the newest order day (the spells' as-of). A newest date more than a year after the newest order day (a
--   typing error, most likely) is not followed: the mart then stops at the newest order day.
-- source: loyalty_rung_inputs (stg_orders, stg_surveys, stg_complaints, stg_customers, stg_opportunities)
-- params: $start DATE, $end DATE, $margin_rate DOUBLE, $margin_fallback DOUBLE (read by the inputs' step_*
--   figures, which this mart does not keep; any value)
create or replace table mart_loyalty_months as
with newest as (
    select (select min(order_date) from stg_orders) as first_day,
           (select max(order_date) from mart_customer_days) as order_day,
           greatest((select max(order_date) from stg_orders), (select max(created_date) from stg_opportunities),
                    (select max(entered_at)::date from stg_opportunity_stage_history),
                    (select max(created_at)::date from stg_complaints), (select max(survey_date) from stg_surveys))
               as data_day
),
span as (
    select first_day, order_day, if(data_day <= order_day + 366, greatest(data_day, order_day), order_day) as last_day
    from newest
),
dates(as_of) as (
    select (b + interval 1 month - interval 1 day)::date
    from span s,
         unnest(generate_series(date_trunc('month', s.first_day) - interval 1 month, s.last_day::timestamp,
                                interval 1 month)) as t(b)
    where s.first_day <= s.last_day
    union
    select last_day from span where first_day <= last_day
    union
    select order_day from span where first_day <= order_day
),
-- include: loyalty_rung_inputs
kept as (
    select customer_id, as_of, n_orders, last_ordered_at,
           amt_revenue_step as amt_revenue_month,
           sum(amt_revenue_step) over (partition by customer_id order by as_of
                                       rows between unbounded preceding and current row) as amt_revenue_to_date,
           latest_satisfaction_seen, latest_satisfaction_day, latest_nps_seen, latest_nps_day,
           n_unresolved::bigint as n_unresolved, n_referrals::bigint as n_referrals
    from rung_inputs
)
select * from kept
order by as_of, customer_id
