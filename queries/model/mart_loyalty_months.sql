-- mart_loyalty_months: the loyalty rung inputs (loyalty_rung_inputs' facts) kept at load at every month end, for the
--   loyalty page's movements, flows and climbs (loyalty_rung_inputs_mart reads it; the rules, filters, survey window
--   and lifetimes still apply when a query runs, so every setting gives the same answer as the live inputs)
-- grain: customer_id, as_of, for every customer known by as_of; as_of: each month end from the one before the
--   first order's month up to the month end after the newest date in the data (crmlens.period.latest_data_date: orders,
--   opportunities and their stages, complaints, surveys; the default period ends there), that date itself and
--   the newest order day (the spells' as-of). A newest date more than a year after the newest order day (a
--   typing error, most likely) is not followed: the mart then stops at the newest order day.
-- source: mart_order_days (orders and refunds per customer and day), mart_order_dates (the oldest and newest order
--   line), mart_customers (first order line), stg_surveys, stg_complaints, stg_customers, stg_opportunities: the same
--   facts as loyalty_rung_inputs (the tests compare the queries reading this mart with the live inputs)
-- How (model 26): the dates are numbered (step 0, 1, ...); each customer's facts change only at the steps with an
--   order line, a survey, a complaint opened or resolved, a referred customer becoming known, and the step they become
--   known: those few change points are worked out and carried forward with running totals (one window over them), and
--   each change point then gives its rows up to the next one (unnest of the steps between): no join of every
--   customer and date to ranges, no grid of every customer and date joined to the complaints and referrals.
--   Complaints: open at a date by stg_complaints.open_until's rule, as a +1 at the step it opens and a -1 at the step
--   it stops being open;
--   referrals: the customers who name this one as their referrer and are known by the date (the same piece's rule).
-- params: (none)
create or replace table mart_loyalty_months as
with newest as (
    select (select min(order_date) from mart_order_dates) as first_day,
           (select max(order_date) from mart_customer_days) as order_day,
           greatest((select max(order_date) from mart_order_dates), (select max(created_date) from stg_opportunities),
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
-- the dates in order (ends[1] is step 0) and how many
date_list as (
    select coalesce(list(as_of order by as_of), []::date[]) as ends, count(*) as n_steps from dates
),
-- every day with an order line or a survey, and its step: the first date on or after it (days after the last: none)
step_of_day as (
    select day, list_count(list_filter(l.ends, e -> e < day)) as step
    from (select order_date as day from mart_order_dates where order_date is not null
          union select distinct coalesce(survey_date, date '0001-01-01') from stg_surveys), date_list l
    where day <= l.ends[len(l.ends)]
),
-- include: customer_first_seen
-- the customers in the mart and the step from which they are known
known as (
    select f.customer_id, list_count(list_filter(l.ends, e -> e < f.known_since)) as known_step
    from first_seen f, date_list l
    where in_build_scope(f.customer_id) and f.known_since <= l.ends[len(l.ends)]
),
-- purchases, last purchase and revenue per customer and step (a refund lowers revenue, it is never a purchase)
order_steps as (
    select d.customer_id, s.step, sum(d.n_orders) as n_orders,
           max(d.order_date) filter (where d.n_orders > 0) as last_ordered_at, sum(d.amt_revenue) as amt_revenue
    from mart_order_days d
    join step_of_day s on s.day = d.order_date
    semi join known k on k.customer_id = d.customer_id  -- (a hash join: the scope's few customers, or everybody)
    group by d.customer_id, s.step
),
-- surveys: the latest survey day in each step (several on one day: their average), and that day; a step before the
--   customer is known is not kept (nor carried forward)
survey_steps as (
    select customer_id, step,
           arg_max(satisfaction, survey_day) filter (where satisfaction is not null) as satisfaction,
           max(survey_day) filter (where satisfaction is not null) as satisfaction_day,
           arg_max(nps, survey_day) filter (where nps is not null) as nps,
           max(survey_day) filter (where nps is not null) as nps_day
    from (
        select s.customer_id, s.survey_day, sd.step, avg(s.satisfaction) as satisfaction, avg(s.nps) as nps
        from (select *, coalesce(survey_date, date '0001-01-01') as survey_day from stg_surveys) s
        join step_of_day sd on sd.day = s.survey_day
        where s.customer_id is not null and in_build_scope(s.customer_id)
        group by s.customer_id, s.survey_day, sd.step
    )
    group by customer_id, step
),
-- a complaint is open at the steps from the one it was opened in to the one before open_until (not closed: open from
--   then on; closed without a resolved time: never open)
complaint_spans as (
    select k.customer_id, list_count(list_filter(l.ends, e -> e < k.created_at::date)) as from_step,
           list_count(list_filter(l.ends, e -> e < k.open_until)) as to_step
    from stg_complaints k, date_list l
    where k.customer_id is not null and in_build_scope(k.customer_id) and k.created_at is not null
      and k.open_until is not null
),
-- a referred customer counts for their referrer from the step they are known
referral_steps as (
    select r.referred_by as customer_id, list_count(list_filter(l.ends, e -> e < f.known_since)) as step
    from stg_customers r
    join first_seen f on f.customer_id = r.customer_id
    cross join date_list l
    where r.referred_by is not null and r.referred_by <> r.customer_id and in_build_scope(r.referred_by)
),
-- every change of a customer's facts at a step, from the step they are known (complaints and referrals before it
--   count from it). One row per customer and step for the known step, orders and surveys; complaints and referrals
--   may add more at a step: the window below reads them in step order with the order row last, and only the last row
--   of a step gives rows (the one whose next row is at a later step)
changes as (
    select k.customer_id, k.known_step as step, null::bigint as n_orders, null::date as last_ordered_at,
           null::double as amt_revenue, false as has_order, null::struct(v double, d date) as satisfaction,
           null::struct(v double, d date) as nps, 0 as d_unresolved, 0 as d_referrals
    from known k
    union all
    select o.customer_id, o.step, o.n_orders, o.last_ordered_at, o.amt_revenue, true, null, null, 0, 0
    from order_steps o
    union all
    select s.customer_id, s.step, null, null, null, false,
           if(s.satisfaction is null, null, {'v': s.satisfaction, 'd': s.satisfaction_day}),
           if(s.nps is null, null, {'v': s.nps, 'd': s.nps_day}), 0, 0
    from survey_steps s
    join known k on k.customer_id = s.customer_id and s.step >= k.known_step
    union all
    select c.customer_id, greatest(c.from_step, k.known_step), null, null, null, false, null, null, 1, 0
    from complaint_spans c
    join known k on k.customer_id = c.customer_id and c.from_step < c.to_step and k.known_step < c.to_step
    union all
    select c.customer_id, c.to_step, null, null, null, false, null, null, -1, 0
    from complaint_spans c
    join known k on k.customer_id = c.customer_id and c.from_step < c.to_step and k.known_step < c.to_step
    join date_list l on c.to_step < l.n_steps
    union all
    select r.customer_id, greatest(r.step, k.known_step), null, null, null, false, null, null, 0, 1
    from referral_steps r
    join known k on k.customer_id = r.customer_id
    join date_list l on r.step < l.n_steps
),
-- the facts after each change (running totals, the latest answers), and the step of the next change
carried as (
    select customer_id, step, has_order, amt_revenue,
           sum(n_orders) over w as n_orders_to_date,
           max(last_ordered_at) over w as last_ordered_to_date,
           sum(amt_revenue) over w as amt_revenue_to_date,
           last_value(satisfaction ignore nulls) over w as satisfaction,
           last_value(nps ignore nulls) over w as nps,
           sum(d_unresolved) over w as n_unresolved,
           sum(d_referrals) over w as n_referrals,
           lead(step, 1, (select n_steps from date_list)) over w as next_step
    from changes
    window w as (partition by customer_id order by step, has_order rows between unbounded preceding and current row)
),
-- each change point's facts at every step up to the next one
rows_out as (
    select customer_id, step, has_order, amt_revenue, n_orders_to_date, last_ordered_to_date, amt_revenue_to_date,
           satisfaction, nps, n_unresolved, n_referrals,
           unnest(range(step, next_step)) as at_step
    from carried
)
select o.customer_id, l.ends[o.at_step + 1] as as_of,
       coalesce(o.n_orders_to_date, 0)::bigint as n_orders,
       o.last_ordered_to_date as last_ordered_at,
       if(o.at_step = o.step and o.has_order, o.amt_revenue, 0) as amt_revenue_month,
       coalesce(o.amt_revenue_to_date, 0) as amt_revenue_to_date,
       o.satisfaction.v as latest_satisfaction_seen, o.satisfaction.d as latest_satisfaction_day,
       o.nps.v as latest_nps_seen, o.nps.d as latest_nps_day,
       o.n_unresolved::bigint as n_unresolved, o.n_referrals::bigint as n_referrals
from rows_out o, date_list l
order by as_of
