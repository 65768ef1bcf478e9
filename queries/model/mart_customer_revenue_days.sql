-- mart_customer_revenue_days: each customer's days with an order line that counts, as one list, so that a figure over
--   a window of days per customer (revenue_before) reads one row per customer instead of joining every one of
--   their days
-- grain: customer_id; source: mart_order_days
--   days: a list of {order_date, amt_revenue}, one per day of mart_order_days (amt_revenue: refunds lower it), oldest
--     first (list_sort of the structs sorts by their first field, the day)
create or replace table mart_customer_revenue_days as
select customer_id, list_sort(list({'order_date': order_date, 'amt_revenue': amt_revenue})) as days
from mart_order_days
where in_build_scope(customer_id)
group by customer_id
