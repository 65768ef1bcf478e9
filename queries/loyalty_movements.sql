-- loyalty_movements: flows between ladder states from each period end (month or quarter) to the next, within
--   the period
-- params: $start DATE, $end DATE, $grain VARCHAR ('month'|'quarter'), $segment VARCHAR[], $region VARCHAR[],
--   $channel VARCHAR[], $owner VARCHAR[], $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE,
--   $min_referrals INTEGER, $min_orders_client INTEGER, $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE,
--   $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: from_date, to_date, from_state ('new' = not known at from_date; a rung; 'lost' = lost by the churn
--   rule), to_state,
-- direction ('joined', 'climbed', 'stayed', 'fell', 'left', 'returned'), n_customers, amt_revenue (their
--     revenue after from_date up to to_date)
with step as (
    select if($grain = 'quarter', interval 3 month, interval 1 month) as step,
           if($grain = 'quarter', 'quarter', 'month') as part
),
-- the end of each month (quarter) from the one before the period starts; the period end closes the last
dates(as_of) as (
    select distinct least((b + s.step - interval 1 day)::date, $end::date)
    from step s, unnest(generate_series(date_trunc(s.part, $start::date) - s.step, $end::date::timestamp, s.step)) as t(b)
),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
moves as (
    select customer_id, as_of as to_date, state as to_state, rung_rank as to_rank, amt_revenue_step,
           lag(state) over w as from_state_seen, lag(rung_rank) over w as from_rank
    from rung_states
    window w as (partition by customer_id order by as_of)
),
date_pairs as (
    select lag(as_of) over (order by as_of) as from_date, as_of as to_date from dates
)
select p.from_date, p.to_date,
       coalesce(m.from_state_seen, 'new') as from_state, m.to_state,
       case
           when m.from_state_seen is null then 'joined'
           when m.from_state_seen = 'lost' and m.to_state = 'lost' then 'stayed'
           when m.to_state = 'lost' then 'left'
           when m.from_state_seen = 'lost' then 'returned'
           when m.to_rank > m.from_rank then 'climbed'
           when m.to_rank < m.from_rank then 'fell'
           else 'stayed'
       end as direction,
       count(*) as n_customers,
       sum(m.amt_revenue_step) as amt_revenue
from moves m
join date_pairs p on p.to_date = m.to_date
where p.from_date is not null
group by all
order by p.to_date, from_state, m.to_state
