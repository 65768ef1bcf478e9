-- build_order_days: (re)build table order_days from orders: one row per customer and day with a completed order, with the days since their previous such day; run by every load that changes orders, so that churn lifetimes need not sort every order again
-- params: $non_revenue_statuses VARCHAR[]
-- returns: no rows; creates order_days (customer_id, order_date, n_orders, amount, gap_before: days since the customer's previous order day, NULL on their first)
create or replace table order_days as
select customer_id, order_date, count(*) as n_orders, sum(amount) as amount,
       order_date - lag(order_date) over (partition by customer_id order by order_date) as gap_before
from orders
where not list_contains($non_revenue_statuses, lower(trim(coalesce(status, ''))))
group by customer_id, order_date
