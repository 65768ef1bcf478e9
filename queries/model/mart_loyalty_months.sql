-- mart_loyalty_months: the loyalty rung inputs (loyalty_rung_inputs' facts) kept at load at every month end, for the
--   loyalty page's movements, flows and climbs (loyalty_rung_inputs_mart reads it; the rules, filters, survey window
--   and lifetimes still apply when a query runs, so every setting gives the same answer as the live inputs)
-- grain: customer_id, as_of, for every customer known by as_of; as_of: each month end from the one before the
--   first order's month up to the month end after the newest date in the data (crmlens.period.latest_data_date: orders,
--   opportunities and their stages, complaints, surveys; the default period ends there), that date itself and
--   the newest order day (the spells' as-of). A newest date more than a year after the newest order day (a
--   typing error, most likely) is not followed: the mart then stops at the newest order day.
-- source: mart_order_days (orders and refunds per customer and day), mart_customers (first order line), stg_surveys,
--   stg_complaints, stg_customers, stg_opportunities: the same facts as loyalty_rung_inputs (the tests compare the
--   queries reading this mart with the live inputs), computed once per customer and step rather than per order line
-- params: (none)
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
date_list as (
    select list(as_of order by as_of) as ends from dates
),
-- every day with an order line or a survey, and the first as_of on or after it (its step)
step_of_day as (
    select day, l.ends[list_count(list_filter(l.ends, e -> e < day)) + 1] as as_of
    from (select distinct order_date as day from mart_order_days
          union select distinct coalesce(survey_date, date '0001-01-01') from stg_surveys), date_list l
    where day <= l.ends[len(l.ends)]
),
-- include: customer_first_seen
-- include: loyalty_open_complaints_referrals
-- purchases, last purchase and revenue per customer and step (a refund lowers revenue, it is never a purchase)
order_steps as (
    select d.customer_id, s.as_of, sum(d.n_orders) as n_orders,
           max(d.order_date) filter (where d.n_orders > 0) as last_ordered_at, sum(d.amt_revenue) as amt_revenue
    from mart_order_days d
    join step_of_day s on s.day = d.order_date
    where in_build_scope(d.customer_id)
    group by d.customer_id, s.as_of
),
-- surveys: the latest survey day in each step (several on one day: their average), and that day
survey_steps as (
    select customer_id, as_of,
           arg_max(satisfaction, survey_day) filter (where satisfaction is not null) as satisfaction,
           max(survey_day) filter (where satisfaction is not null) as satisfaction_day,
           arg_max(nps, survey_day) filter (where nps is not null) as nps,
           max(survey_day) filter (where nps is not null) as nps_day
    from (
        select s.customer_id, s.survey_day, sd.as_of, avg(s.satisfaction) as satisfaction, avg(s.nps) as nps
        from (select *, coalesce(survey_date, date '0001-01-01') as survey_day from stg_surveys) s
        join step_of_day sd on sd.day = s.survey_day
        where s.customer_id is not null and in_build_scope(s.customer_id)
        group by s.customer_id, s.survey_day, sd.as_of
    )
    group by customer_id, as_of
),
-- running totals at each step with an order line, and the latest answers at each step with a survey (from the step
--   the customer is known by), each holding until the customer's next such step: windows over these few rows, then
--   every date takes the one it falls in (the same as running sums over every customer and date)
order_runs as (
    select customer_id, as_of, amt_revenue,
           sum(n_orders) over w as n_orders_to_date,
           max(last_ordered_at) over w as last_ordered_to_date,
           sum(amt_revenue) over w as amt_revenue_to_date,
           lead(as_of, 1, date '9999-12-31') over (partition by customer_id order by as_of) as next_as_of
    from order_steps
    window w as (partition by customer_id order by as_of rows between unbounded preceding and current row)
),
known_survey_steps as (
    select s.* from survey_steps s join first_seen f on f.customer_id = s.customer_id and f.known_since <= s.as_of
),
satisfaction_runs as (
    select customer_id, as_of, satisfaction, satisfaction_day,
           lead(as_of, 1, date '9999-12-31') over (partition by customer_id order by as_of) as next_as_of
    from known_survey_steps
    where satisfaction is not null
),
nps_runs as (
    select customer_id, as_of, nps, nps_day,
           lead(as_of, 1, date '9999-12-31') over (partition by customer_id order by as_of) as next_as_of
    from known_survey_steps
    where nps is not null
),
step_state as (
    select f.customer_id, d.as_of,
           coalesce(o.n_orders_to_date, 0)::bigint as n_orders,
           o.last_ordered_to_date as last_ordered_at,
           if(o.as_of = d.as_of, o.amt_revenue, 0) as amt_revenue_month,
           coalesce(o.amt_revenue_to_date, 0) as amt_revenue_to_date,
           sa.satisfaction as latest_satisfaction_seen, sa.satisfaction_day as latest_satisfaction_day,
           np.nps as latest_nps_seen, np.nps_day as latest_nps_day
    from (select * from first_seen where in_build_scope(customer_id)) f
    join dates d on f.known_since <= d.as_of
    left join order_runs o on o.customer_id = f.customer_id and o.as_of <= d.as_of and d.as_of < o.next_as_of
    left join satisfaction_runs sa on sa.customer_id = f.customer_id and sa.as_of <= d.as_of and d.as_of < sa.next_as_of
    left join nps_runs np on np.customer_id = f.customer_id and np.as_of <= d.as_of and d.as_of < np.next_as_of
)
select s.customer_id, s.as_of, s.n_orders, s.last_ordered_at, s.amt_revenue_month, s.amt_revenue_to_date,
       s.latest_satisfaction_seen, s.latest_satisfaction_day, s.latest_nps_seen, s.latest_nps_day,
       coalesce(u.n_unresolved, 0)::bigint as n_unresolved, coalesce(r.n_referrals, 0)::bigint as n_referrals
from step_state s
left join unresolved u on u.customer_id = s.customer_id and u.as_of = s.as_of
left join referrals r on r.customer_id = s.customer_id and r.as_of = s.as_of
order by s.as_of
