-- last_followup(as_of): each customer's latest activity (call, visit, message...) on or before as_of
create or replace macro last_followup(as_of) as table
select customer_id, max(activity_date) as last_followup_date
from stg_activities
where activity_date <= as_of::date
group by customer_id
