-- complaints_oldest_open: the open complaints waiting longest (a page of $limit rows)
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $limit INTEGER
-- returns: complaint_id, customer_id, created_at, category, severity, channel, hours_open, days_open (the same span
--   in days: a ticket open for months reads in days), sla_hours, is_breached, has_response
-- include: complaints_scope
select complaint_id, customer_id, created_at, category, severity, channel, hours_open, hours_open / 24 as days_open,
       sla_hours, is_breached, first_response_at is not null as has_response
from pk
where is_open
order by created_at, complaint_id
limit $limit
