-- followup_worklist: customers with an order, complaint or won deal in the last $followup_days days of the
--   data and no follow-up of it yet, ranked by the value at stake
-- params: $start DATE (records from then on), $end DATE, $followup_days INTEGER, $owner VARCHAR[], $limit INTEGER,
--   $won_stages VARCHAR[], $lost_stages VARCHAR[] (the funnel's stage settings: which deals are won)
-- returns: customer_id, name, owner, kind (of their latest record waiting), record_id, event_date,
--   days_waiting, n_waiting (their records waiting), amt_at_stake (their revenue in the 365 days to the data
--   end), last_followup_date (any activity), n_total (customers on the whole list)
with
-- include: followup_events
waiting as (
    select *
    from events
    where first_followup_date is null
      and event_date > (select d from data_end) - $followup_days
),
per_customer as (
    select customer_id, arg_max(kind, event_date) as kind, arg_max(record_id, event_date) as record_id,
           max(event_date) as event_date, count(*) as n_waiting, arg_max(owner, event_date) as owner
    from waiting
    group by customer_id
)
select p.customer_id, c.name, p.owner, p.kind, p.record_id, p.event_date,
       (select d from data_end) - p.event_date as days_waiting, p.n_waiting,
       coalesce(v.amt_at_stake, 0) as amt_at_stake, t.last_followup_date,
       count(*) over () as n_total
from per_customer p
left join stg_customers c using (customer_id)
left join value_at_stake((select d from data_end)) v using (customer_id)
left join last_followup((select d from data_end)) t using (customer_id)
order by amt_at_stake desc, p.event_date desc, p.customer_id
limit $limit
