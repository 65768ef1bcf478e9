-- complaints_repeat_customers: customers with the most complaints in the period (a page of $limit rows)
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $limit INTEGER
-- returns: customer_id, name, n_complaints, first_created_at, last_created_at, categories (most frequent
--   first), n_open
-- include: complaints_scope
select pk.customer_id, any_value(cu.name) as name, count(*) as n_complaints,
       min(created_at) as first_created_at, max(created_at) as last_created_at,
       string_agg(distinct category, ', ' order by category) as categories,
       count(*) filter (where is_open) as n_open
from pk left join stg_customers cu on cu.customer_id = pk.customer_id
where pk.customer_id is not null
group by pk.customer_id
having count(*) >= 2
order by n_complaints desc, last_created_at desc, pk.customer_id
limit $limit
