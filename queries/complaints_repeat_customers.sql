-- complaints_repeat_customers: customers with the most complaints in the period (a page of $limit rows)
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $limit INTEGER
-- returns: customer_id, name, n_complaints, first_created_at, last_created_at, categories (most frequent
--   first), n_open
-- include: complaints_scope
,
top as (
    -- the page's customers first (a sorted DISTINCT list per customer costs: only theirs is made)
    select customer_id from pk
    where customer_id is not null
    group by customer_id
    having count(*) >= 2
    order by count(*) desc, max(created_at) desc, customer_id
    limit $limit
)
select pk.customer_id, any_value(pk.customer_name) as name, count(*) as n_complaints,
       min(created_at) as first_created_at, max(created_at) as last_created_at,
       string_agg(distinct category, ', ' order by category) as categories,
       count(*) filter (where is_open) as n_open
from pk
join top on top.customer_id = pk.customer_id
group by pk.customer_id
order by n_complaints desc, last_created_at desc, pk.customer_id
