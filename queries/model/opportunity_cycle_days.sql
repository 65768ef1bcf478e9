-- opportunity_cycle_days(dated_by, effective_created, closed_on): a won deal's sales cycle in days, from its
-- creation or first-stage date to the day it closed; NULL when it counts from its close date (dated_by 'close': a
-- deal dated only by its close date adds no cycle), when either day is unknown, or when it closed before it counts
create or replace macro opportunity_cycle_days(dated_by, effective_created, closed_on) as
if(dated_by in ('created', 'first_stage') and closed_on >= effective_created, closed_on - effective_created, null)
