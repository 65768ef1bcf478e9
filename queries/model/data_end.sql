-- data_end(end_date): the day the data reaches, at most end_date: the newest order, activity, complaint or
-- opportunity day (created, or closed: an open deal's close date is a day expected, not one that happened). What the follow-up and departure pages scope records and silences by;
-- figures about customers (lost, repeat orders) are judged as of period_as_of(end_date), which cannot see past
-- the newest order day.
create or replace macro data_end(end_date) as
least(end_date::date, greatest(
    coalesce((select max(order_date) from mart_order_dates), date '0001-01-01'),
    coalesce((select max(activity_date) from stg_activities), date '0001-01-01'),
    coalesce((select max(created_at)::date from stg_complaints), date '0001-01-01'),
    coalesce((select max(greatest(effective_created, if(status <> 'open', close_date, null))) from stg_opportunities),
             date '0001-01-01')))
