-- complaints_coverage: what the complaints in the period carry (customer ids, times, ratings) and the as-of
--   time
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE
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
    select count(distinct customer_id) as n_active_customers, coalesce(sum(n_orders), 0) as n_orders from orders_in_scope
)
select count(*) as n_complaints,
       (select n_active_customers from activity) as n_active_customers,
       (select n_orders from activity) as n_orders,
       100.0 * count(*) / nullif((select n_active_customers from activity), 0) as rate_per_100_customers,
       count(customer_id) as n_with_customer,
       count(*) filter (where customer_id in (select customer_id from mart_customers)) as n_known_customer,
       count(first_response_at) as n_with_response,
       count(resolved_at) as n_with_resolved,
       count(*) filter (where resolved_at is null and not is_open) as n_closed_no_time,
       count(satisfaction) as n_rated,
       (select coalesce(sum(n_lines), 0) from mart_order_dates) as n_orders_total,
       (select as_of_at from as_of) as as_of_at
from pk
