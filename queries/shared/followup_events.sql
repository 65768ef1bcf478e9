-- shared piece followup_events: the records that call for a follow-up (回访): completed orders
--   (stg_orders.is_order), complaints, won deals (opportunity_status by the funnel's $won_stages, $lost_stages; on
--   the day they closed, opportunity_closed_on: a won deal without a close day is no record), and the first
--   follow-up of each within $followup_days days
-- A follow-up is an activity (stg_activities) for the same customer on or after the record's day, whose
--   related_id names the record or is empty. Output: CTEs data_end (d: the day the data reaches, at most $end: the
--   macro data_end; as_of: the day customer outcomes are known to, period_as_of(d)),
--   events (one row per record of customers in $owner, or all when empty: kind, record_id, customer_id,
--   owner, event_date, first_followup_date, delay_days, followup_type, is_followed (within the window),
--   is_window_over (event_date + $followup_days <= data_end: only these count in the coverage)); records
--   from $start on only
data_end as materialized (
    select d, period_as_of(d) as as_of from (select data_end($end) as d)
),
raw_events as (
    select 'order' as kind, order_id as record_id, customer_id, null::varchar as record_owner, order_date as event_date
    from stg_orders where is_order and customer_id is not null
    union all
    select 'complaint', complaint_id, customer_id, null, created_at::date
    from stg_complaints where customer_id is not null
    union all
    select 'won_deal', opportunity_id, customer_id, owner,
           opportunity_closed_on(close_date, history, $won_stages, $lost_stages)
    from mart_opportunities
    where opportunity_status(stage_key, $won_stages, $lost_stages) = 'won' and customer_id is not null
),
scoped_events as materialized (
    select e.kind, e.record_id, e.customer_id, coalesce(e.record_owner, c.owner) as owner, e.event_date
    from raw_events e
    left join stg_customers c using (customer_id)
    where e.event_date between $start and (select d from data_end)
      and (len($owner) = 0 or list_contains($owner, coalesce(e.record_owner, c.owner)))
),
-- the first activity for the customer on or after the record's day that names it (an equi-join on the
--   record id) or names nothing (an as-of join: the nearest such activity on or after the day)
loose_activities as (
    select customer_id, activity_date, type_key
    from stg_activities
    where (related_id is null or trim(related_id) = '') and activity_date <= (select d from data_end)
),
named_followups as (
    select e.kind, e.record_id, e.customer_id, min(a.activity_date) as followup_date,
           arg_min(a.type_key, a."at") as followup_type
    from scoped_events e
    join stg_activities a
      on a.related_id = e.record_id and a.customer_id = e.customer_id and a.activity_date >= e.event_date
     and a.activity_date <= (select d from data_end)
    group by all
),
nearest_loose as (
    select e.kind, e.record_id, e.customer_id, u.activity_date as followup_date, u.type_key as followup_type
    from scoped_events e
    asof join loose_activities u on u.customer_id = e.customer_id and u.activity_date >= e.event_date
),
matched as (
    select kind, record_id, customer_id, min(followup_date) as first_followup_date,
           arg_min(followup_type, followup_date) as followup_type
    from (select * from named_followups union all select * from nearest_loose)
    group by all
),
events as (
    select e.*, m.first_followup_date, m.followup_type,
           m.first_followup_date - e.event_date as delay_days,
           coalesce(m.first_followup_date - e.event_date <= $followup_days, false) as is_followed,
           e.event_date + $followup_days <= (select d from data_end) as is_window_over
    from scoped_events e
    left join matched m using (kind, record_id, customer_id)
),
