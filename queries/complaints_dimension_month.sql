-- complaints_dimension_month: complaints per value of one dimension and month (the heatmap beside the Pareto), for
--   the $limit most frequent values of the period
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $dimension VARCHAR, $handler_col VARCHAR ('' = none),
--   $subcategory_col VARCHAR ('' = none), $product_col VARCHAR ('' = none), $category VARCHAR[],
--   $severity VARCHAR[], $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[],
--   $segment VARCHAR[], $owner VARCHAR[], $start DATE, $end DATE, $limit INTEGER
-- returns: value (NULL = not given), month_start, n_complaints, n_values (the values in the period, shown or not)
-- include: complaints_scope
-- include: complaints_dimension_value
,
ranked as (
    -- the order of complaints_by_dimension: most complaints first, then by value, not given last
    select value, row_number() over (order by count(*) desc, value nulls last) as value_rank,
           count(*) over () as n_values
    from dims group by value
)
select d.value, date_trunc('month', d.created_at)::date as month_start, count(*) as n_complaints,
       any_value(r.n_values) as n_values
from dims d join ranked r on r.value is not distinct from d.value
where r.value_rank <= $limit
group by all
order by month_start, d.value nulls last
