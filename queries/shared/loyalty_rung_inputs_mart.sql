-- shared piece loyalty_rung_inputs_mart: loyalty_rung_inputs read from mart_loyalty_months instead of the orders
-- Input: a CTE dates(as_of) whose dates are all in the mart (crmlens.model.use_loyalty_mart checks that before
-- queries.run swaps this piece in). Output: rung_inputs with the columns the rules read (not the step_* period
-- figures: loyalty_customer_measures needs the live piece). amt_revenue_step: the revenue after the date before
-- up to as_of, the months of the mart summed; at the first date everything up to it.
step_ends as (
    select min(as_of) as first_end, max(as_of) as last_end, list(as_of order by as_of) as ends from dates
),
-- every mart date after the first date and up to the last, with the first date on or after it (its step)
mart_step as (
    select m.day, e.ends[list_count(list_filter(e.ends, x -> x < m.day)) + 1] as as_of
    from step_ends e,
         (select distinct least((b + interval 1 month - interval 1 day)::date, se.last_end) as day
          from step_ends se, unnest(generate_series(date_trunc('month', se.first_end), se.last_end::timestamp,
                                                    interval 1 month)) as t(b)) m
    where m.day > e.first_end and m.day <= e.last_end
),
-- steps of one mart date (month ends month by month) take its revenue as it is; longer steps (quarters) sum theirs
long_steps as (
    select day, as_of from mart_step where as_of in (select as_of from mart_step group by as_of having count(*) > 1)
),
step_revenue as (
    select m.customer_id, s.as_of, sum(m.amt_revenue_month) as amt_revenue_step
    from mart_loyalty_months m
    join long_steps s on s.day = m.as_of
    group by all
),
rung_inputs as (
    select m.customer_id, m.as_of, m.n_orders, m.last_ordered_at,
           case
               when m.as_of = e.first_end then m.amt_revenue_to_date
               when m.as_of in (select as_of from long_steps) then coalesce(r.amt_revenue_step, 0)
               else m.amt_revenue_month
           end as amt_revenue_step,
           m.latest_satisfaction_seen, m.latest_satisfaction_day, m.latest_nps_seen, m.latest_nps_day,
           m.n_unresolved, m.n_referrals
    from mart_loyalty_months m
    cross join step_ends e
    left join step_revenue r on r.customer_id = m.customer_id and r.as_of = m.as_of
    where m.as_of in (select as_of from dates)
),
