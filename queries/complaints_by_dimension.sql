-- complaints_by_dimension: complaints per value of one dimension, most frequent first, with the Pareto share
--   and speed
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $dimension VARCHAR, $handler_col VARCHAR ('' = none),
--   $subcategory_col VARCHAR ('' = none), $product_col VARCHAR ('' = none), $category VARCHAR[],
--   $severity VARCHAR[], $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[],
--   $segment VARCHAR[], $owner VARCHAR[], $start DATE, $end DATE
-- returns: value (NULL = not given), n_complaints, share, cum_share, n_customers, n_open,
--   median_hours_to_resolve, rate_breach, avg_satisfaction
-- include: complaints_scope
-- include: complaints_dimension_value
,
per_value as (
    select value, count(*) as n_complaints, count(distinct customer_id) as n_customers,
           count(*) filter (where is_open) as n_open,
           median(hours_to_resolve) as median_hours_to_resolve,
           avg(is_breached::int) as rate_breach,
           avg(satisfaction) as avg_satisfaction
    from dims group by value
)
select value, n_complaints,
       n_complaints / sum(n_complaints) over () as share,
       sum(n_complaints) over (order by n_complaints desc, value nulls last rows unbounded preceding)
           / sum(n_complaints) over () as cum_share,
       n_customers, n_open, median_hours_to_resolve, rate_breach, avg_satisfaction
from per_value
order by n_complaints desc, value nulls last
