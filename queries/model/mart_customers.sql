-- mart_customers: one row per customer id the data knows, from the customer list or from any order line
-- grain: customer_id; source: stg_customers, stg_orders
--   is_listed: on the customer list (segment, region, channel, owner, signup_date come from it)
--   first_line_on: the customer's first order line of any kind (a cancelled one too)
--   first_order_on, last_order_on, n_orders: their orders (stg_orders.is_order)
create or replace table mart_customers as
with lines as (
    select customer_id,
           min(order_date) as first_line_on,
           min(order_date) filter (where is_order) as first_order_on,
           max(order_date) filter (where is_order) as last_order_on,
           count(*) filter (where is_order) as n_orders
    from stg_orders
    where customer_id is not null and in_build_scope(customer_id)
    group by customer_id
)
select coalesce(c.customer_id, l.customer_id) as customer_id,
       c.customer_id is not null as is_listed,
       c.signup_date, c.segment, c.region, c.channel, c.owner,
       l.first_line_on, l.first_order_on, l.last_order_on, coalesce(l.n_orders, 0) as n_orders
from stg_customers c
full join lines l on l.customer_id = c.customer_id
where coalesce(c.customer_id, l.customer_id) is not null and in_build_scope(coalesce(c.customer_id, l.customer_id))
