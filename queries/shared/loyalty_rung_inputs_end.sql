-- shared piece loyalty_rung_inputs_end: loyalty_rung_inputs at the single date $end, read from marts instead of
--   the order lines (the ladder summary, the customer table and triage; queries.run swaps it in)
-- Input: a CTE dates(as_of) holding $end only. Output: rung_inputs with every column of loyalty_rung_inputs,
-- the step_* figures included (the step is everything up to $end): order facts per customer (order_facts:
-- loyalty_order_facts_days, from mart_order_days for any period and margin setting, or loyalty_order_facts_period
-- from mart_customer_period at the default period), when each customer was first known from mart_customers,
-- surveys, complaints and referrals from their staging views. The same figures as loyalty_rung_inputs (a test
-- compares both on demo data); sums of doubles may differ in their last bits (summed per day first).
-- include: loyalty_order_facts_days
-- include: customer_first_seen
known as (
    select customer_id from first_seen where known_since <= $end::date
),
-- the latest survey day up to $end (several on one day: their average), and that day
survey_facts as (
    select customer_id,
           arg_max(satisfaction, survey_day) filter (where satisfaction is not null) as latest_satisfaction_seen,
           max(survey_day) filter (where satisfaction is not null) as latest_satisfaction_day,
           arg_max(nps, survey_day) filter (where nps is not null) as latest_nps_seen,
           max(survey_day) filter (where nps is not null) as latest_nps_day
    from (
        select customer_id, coalesce(survey_date, date '0001-01-01') as survey_day,
               avg(satisfaction) as satisfaction, avg(nps) as nps
        from stg_surveys
        where customer_id is not null and coalesce(survey_date, date '0001-01-01') <= $end::date
        group by all
    )
    group by customer_id
),
unresolved as (
    select customer_id, count(*) as n_unresolved
    from stg_complaints
    where customer_id is not null and created_at::date <= $end::date and $end::date < open_until
    group by customer_id
),
referrals as (
    select r.referred_by as customer_id, count(*) as n_referrals
    from stg_customers r
    join known k on k.customer_id = r.customer_id
    where r.referred_by is not null and r.referred_by <> r.customer_id
    group by r.referred_by
),
rung_inputs as (
    select k.customer_id, $end::date as as_of,
           coalesce(o.n_orders, 0)::bigint as n_orders,
           o.last_ordered_at,
           coalesce(o.amt_revenue, 0) as amt_revenue_step,
           o.step_amt_profit, o.step_amt_margin, o.step_n_orders_period, o.step_amt_revenue_period,
           o.step_amt_profit_period, o.step_last_ordered_in_period, o.step_amt_margin_year,
           o.step_is_active_year,
           s.latest_satisfaction_seen, s.latest_satisfaction_day, s.latest_nps_seen, s.latest_nps_day,
           coalesce(u.n_unresolved, 0) as n_unresolved, coalesce(r.n_referrals, 0) as n_referrals
    from known k
    left join order_facts o using (customer_id)
    left join survey_facts s using (customer_id)
    left join unresolved u using (customer_id)
    left join referrals r using (customer_id)
),
