-- complaints_coverage: what the complaints in the period carry (customer ids, times, ratings) and the as-of
--   time
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $complaint_period_mart BOOLEAN (set by crmlens.model)
-- returns: n_complaints, n_active_customers, n_orders (completed orders in the period, customer filters
--   applied), rate_per_100_customers (complaints per 100 active customers; NULL without any),
--   n_with_customer, n_known_customer, n_with_response, n_with_resolved, n_closed_no_time, n_rated,
--   n_orders_total (order lines of any kind in the data: mart_order_dates), as_of_at
-- include: complaints_scope
,
orders_in_scope as (
    -- include: complaints_orders_in_scope
),
activity as (
    -- at the default period each customer's orders in it are kept in mart_complaint_customers
    select count(*) filter (where first_order_in_period is not null) as n_active_customers,
           coalesce(sum(n_orders_in_period), 0) as n_orders
    from mart_complaint_customers
    where $complaint_period_mart
      and (len($region) = 0 or list_contains($region, region))
      and (len($segment) = 0 or list_contains($segment, segment))
      and (len($owner) = 0 or list_contains($owner, owner))
    having $complaint_period_mart  -- (one row from one of the two)
    union all
    select count(distinct customer_id), coalesce(sum(n_orders), 0) from orders_in_scope where not $complaint_period_mart
    having not $complaint_period_mart
)
select count(*) as n_complaints,
       (select n_active_customers from activity) as n_active_customers,
       (select n_orders from activity) as n_orders,
       100.0 * count(*) / nullif((select n_active_customers from activity), 0) as rate_per_100_customers,
       count(customer_id) as n_with_customer,
       count(*) filter (where is_known_customer) as n_known_customer,
       count(first_response_at) as n_with_response,
       count(resolved_at) as n_with_resolved,
       count(*) filter (where resolved_at is null and not is_open) as n_closed_no_time,
       count(satisfaction) as n_rated,
       (select coalesce(sum(n_lines), 0) from mart_order_dates) as n_orders_total,
       (select as_of_at from as_of) as as_of_at
from pk
