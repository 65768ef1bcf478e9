-- shared piece loyalty_rung_inputs: the facts the rung rules read, for each customer known by each date
-- Input: a CTE dates(as_of). Output: rung_inputs, one row per customer known by each as_of (every customer:
-- the filters and the rules apply in loyalty_rung_rules): purchases so far, last purchase, the revenue of the
-- step ending at as_of, the latest survey answers seen and their days, open complaints, referrals.
-- mart_loyalty_months keeps these at every month end for the loyalty page (loyalty_rung_inputs_mart reads it).
date_list as (
    select list(as_of order by as_of) as ends from dates
),
step_of_day as (
    -- every day that has an order or a survey, and the first as_of on or after it
    select day, l.ends[list_count(list_filter(l.ends, e -> e < day)) + 1] as as_of
    from (select distinct order_date as day from stg_orders
          union select distinct coalesce(survey_date, date '0001-01-01') from stg_surveys), date_list l
    where day <= l.ends[len(l.ends)]
),
-- each order lands on the first as_of on or after its date (worked out once per calendar day, not per row);
--   running sums give the state at each date.
-- A purchase is an order (stg_orders.is_order); a refund line lowers revenue but is never a purchase. The
--   step_* figures hold for one step only: with
-- the single date $end they are the customer's figures for the period [$start, $end] and for the
-- years before $end (margin: order_margin, the one definition the churn what-if shares: a typed $margin_rate x the
-- amount, else amount - cost when the order has a cost, else $margin_fallback x the amount).
order_steps as (
    select o.customer_id,
           sd.as_of,
           count(*) filter (where o.is_purchase) as n_orders,
           max(o.order_date) filter (where o.is_purchase) as last_ordered_at,
           coalesce(sum(o.amount) filter (where o.is_revenue), 0) as amt_revenue,
           sum(o.amount - o.cost) filter (where o.is_revenue) as step_amt_profit,
           sum(order_margin(o.amount, o.cost, $margin_rate, $margin_fallback)) filter (where o.is_revenue)
               as step_amt_margin,
           count(*) filter (where o.is_purchase and o.order_date >= $start) as step_n_orders_period,
           sum(o.amount) filter (where o.is_revenue and o.order_date >= $start) as step_amt_revenue_period,
           sum(o.amount - o.cost) filter (where o.is_revenue and o.order_date >= $start) as step_amt_profit_period,
           max(o.order_date) filter (where o.is_purchase and o.order_date >= $start) as step_last_ordered_in_period,
           sum(order_margin(o.amount, o.cost, $margin_rate, $margin_fallback))
               filter (where o.is_revenue and o.order_date > $end::date - 365) as step_amt_margin_year,
           bool_or(o.is_purchase and o.order_date > $end::date - 365) as step_is_active_year
    from (
        select customer_id, order_date, amt_revenue as amount, cost, not is_void as is_revenue, is_order as is_purchase
        from stg_orders
    ) o
    join step_of_day sd on sd.day = o.order_date
    where o.customer_id is not null
    group by o.customer_id, sd.as_of
),
-- include: customer_first_seen
grid as (
    select f.customer_id, d.as_of
    from first_seen f
    join dates d on f.known_since <= d.as_of
),
-- surveys: the latest survey day in each step (several on one day: their average), and that day
survey_steps as (
    select customer_id, as_of,
           arg_max(satisfaction, survey_day) filter (where satisfaction is not null) as satisfaction,
           max(survey_day) filter (where satisfaction is not null) as satisfaction_day,
           arg_max(nps, survey_day) filter (where nps is not null) as nps,
           max(survey_day) filter (where nps is not null) as nps_day
    from (
        select s.customer_id, s.survey_day, sd.as_of,
               avg(s.satisfaction) as satisfaction, avg(s.nps) as nps
        from (select *, coalesce(survey_date, date '0001-01-01') as survey_day from stg_surveys) s
        join step_of_day sd on sd.day = s.survey_day
        where s.customer_id is not null
        group by s.customer_id, s.survey_day, sd.as_of
    )
    group by customer_id, as_of
),
step_state as (
    select g.customer_id, g.as_of,
           (sum(coalesce(o.n_orders, 0)) over w)::bigint as n_orders,
           max(o.last_ordered_at) over w as last_ordered_at,
           coalesce(o.amt_revenue, 0) as amt_revenue_step,
           o.step_amt_profit, o.step_amt_margin, o.step_n_orders_period, o.step_amt_revenue_period,
           o.step_amt_profit_period, o.step_last_ordered_in_period, o.step_amt_margin_year,
           o.step_is_active_year,
           last_value(s.satisfaction ignore nulls) over w as latest_satisfaction_seen,
           last_value(s.satisfaction_day ignore nulls) over w as latest_satisfaction_day,
           last_value(s.nps ignore nulls) over w as latest_nps_seen,
           last_value(s.nps_day ignore nulls) over w as latest_nps_day
    from grid g
    left join order_steps o on o.customer_id = g.customer_id and o.as_of = g.as_of
    left join survey_steps s on s.customer_id = g.customer_id and s.as_of = g.as_of
    window w as (partition by g.customer_id order by g.as_of rows between unbounded preceding and current row)
),
-- include: loyalty_open_complaints_referrals
rung_inputs as (
    select s.*, coalesce(u.n_unresolved, 0) as n_unresolved, coalesce(r.n_referrals, 0) as n_referrals
    from step_state s
    left join unresolved u on u.customer_id = s.customer_id and u.as_of = s.as_of
    left join referrals r on r.customer_id = s.customer_id and r.as_of = s.as_of
),
