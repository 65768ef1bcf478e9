-- stg_activities: one row per follow-up activity (回访, 拜访, call, visit, message) as loaded
-- grain: activity; source: activities
--   activity_date: the day of the activity; type_key: its type, trimmed and lower-case ('' when not given)
create or replace view stg_activities as
select a.*,
       a."at"::date as activity_date,
       lower(trim(coalesce(a."type", ''))) as type_key
from activities a
where a.customer_id is not null and a."at" is not null
