-- mart_customer_days: one row per customer and day with an order, with the days since their previous such day
-- grain: customer_id, order_date; source: stg_orders (is_order)
--   n_orders, amount: the orders of that day and what they were worth
--   gap_before: days since the customer's previous order day (NULL on their first)
create or replace table mart_customer_days as
select customer_id, order_date, count(*) as n_orders, sum(amount) as amount,
       order_date - lag(order_date) over (partition by customer_id order by order_date) as gap_before
from stg_orders
where is_order and customer_id is not null and in_build_scope(customer_id)
group by customer_id, order_date
