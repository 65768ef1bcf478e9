-- followup_payoff: churn, repeat purchase and satisfaction of customers whose first record in the period was
--   followed up within $followup_days days, against those whose first record was not; both judged over the
--   same window: $followup_days + $outcome_days days after that record (customers whose window is not over
--   by the day outcomes are known to, period_as_of of the data end: lost and repeat orders cannot be seen past
--   the newest order day, are left out)
-- params: $start DATE, $end DATE, $followup_days INTEGER, $outcome_days INTEGER, $owner VARCHAR[],
--   $won_stages VARCHAR[], $lost_stages VARCHAR[] (the funnel's), $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: grp ('followed', 'not_followed'), n_customers, n_churned (lost by the churn rule, customer_spells,
--   on a day in the window), rate_churn, n_repeat (another completed order in the window), rate_repeat,
--   n_surveyed (a survey satisfaction in the window), avg_satisfaction, var_satisfaction (sample variance)
with
-- include: followup_events
firsts as (
    select customer_id, arg_min(is_followed, event_date) as is_followed, min(event_date) as event_date
    from (
        select *, row_number() over (partition by customer_id order by event_date, kind, record_id) as k
        from events
        where event_date between $start and $end
    )
    where k = 1
    group by customer_id
),
eligible as (
    select f.*, f.event_date + $followup_days + $outcome_days as window_end
    from firsts f
    where f.event_date + $followup_days + $outcome_days <= (select as_of from data_end)
),
lost as (
    select e.customer_id
    from eligible e
    join lifetimes((select as_of from data_end), $churn_days, $churn_multiplier, $use_spells_mart) s
      on s.customer_id = e.customer_id and s.lost_date > e.event_date and s.lost_date <= e.window_end
    group by e.customer_id
),
repeats as (
    select e.customer_id
    from eligible e
    join mart_customer_days o on o.customer_id = e.customer_id  -- days with a completed order
     and o.order_date > e.event_date and o.order_date <= e.window_end
    group by e.customer_id
),
satisfaction as (
    select e.customer_id, avg(s.satisfaction) as satisfaction
    from eligible e
    join stg_surveys s on s.customer_id = e.customer_id and s.satisfaction is not null
     and s.survey_date > e.event_date and s.survey_date <= e.window_end
    group by e.customer_id
)
select if(e.is_followed, 'followed', 'not_followed') as grp,
       count(*) as n_customers,
       count(l.customer_id) as n_churned, n_churned / count(*) as rate_churn,
       count(r.customer_id) as n_repeat, n_repeat / count(*) as rate_repeat,
       count(s.satisfaction) as n_surveyed, avg(s.satisfaction) as avg_satisfaction,
       var_samp(s.satisfaction) as var_satisfaction
from eligible e
left join lost l using (customer_id)
left join repeats r using (customer_id)
left join satisfaction s using (customer_id)
group by grp
order by grp
