-- complaints_repeat: reopened complaints and repeat complainers (2+ complaints within $repeat_days days)
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $reopen_col VARCHAR ('' = none),
--   $reopened_statuses VARCHAR[], $category VARCHAR[], $severity VARCHAR[], $complaint_channel VARCHAR[],
--   $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[], $owner VARCHAR[], $start DATE, $end DATE,
--   $repeat_days INTEGER, $yes_tokens VARCHAR[]
-- returns: n_complaints, n_with_customer, n_complainers, n_repeat_complainers, rate_repeat (of complainers),
--   n_reopen_known (complaints whose reopen state is known), n_reopened, rate_reopened (of n_reopen_known)
-- include: complaints_scope
,
repeaters as (
    -- each complainer's complaint times in order: a repeat complainer has two in a row within $repeat_days days
    select customer_id,
           list_sort(list(created_at)) as times
    from pk where customer_id is not null
    group by customer_id
),
repeat_flags as (
    select customer_id,
           len(list_filter(range(1, len(times)),
                           i -> date_diff('second', times[i], times[i + 1]) / 86400.0 <= $repeat_days)) > 0 as is_repeat
    from repeaters
),
reopen_facts as (
    -- an optional reopen column kept from the file (a count or yes/no), read by name, and the status
    select customer_id,
           case when $reopen_col <> '' then lower(trim(json_extract_string(to_json(complaint_row), '/' || $reopen_col))) end
               as reopen_value,
           list_contains($reopened_statuses, lower(trim(coalesce(complaint_row.status, '')))) as is_status_reopened
    from pk
),
reopen as (
    select customer_id,
           case when reopen_value is not null
                    then coalesce(try_cast(reopen_value as double) > 0, list_contains($yes_tokens, reopen_value))
                when is_status_reopened then true
           end as is_reopened
    from reopen_facts
),
complaint_counts as (
    -- one pass over the complaints, one over the complainers (each figure its own subquery read pk again)
    select count(*) as n_complaints, count(customer_id) as n_with_customer, count(is_reopened) as n_reopen_known,
           count(*) filter (where is_reopened) as n_reopened
    from reopen
),
complainer_counts as (
    select count(*) as n_complainers, count(*) filter (where is_repeat) as n_repeat_complainers from repeat_flags
)
select c.n_complaints, c.n_with_customer, r.n_complainers, r.n_repeat_complainers,
       r.n_repeat_complainers / nullif(r.n_complainers, 0) as rate_repeat,
       c.n_reopen_known, c.n_reopened, c.n_reopened / nullif(c.n_reopen_known, 0) as rate_reopened
from complaint_counts c cross join complainer_counts r
