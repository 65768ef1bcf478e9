-- mart_order_dates: one row per day with an order line of any kind (cancelled, refunds and guest orders too)
-- grain: order_date (a line without a date, if one ever got in, has its row with order_date NULL); source: stg_orders
--   n_lines: order lines that day (any status), n_lines_with_cost: of those, with a cost filled in
--   n_orders: orders (is_order), n_orders_no_customer: of those, without a customer id (guest orders)
--   amt_revenue: what the day adds to revenue (amt_revenue: void lines 0, refunds negative),
--   amt_revenue_no_customer: of it, on lines without a customer id
--   n_lines_customer: lines that count (not void) with a customer id: the day is one of mart_order_days' (the churn
--     bucket's revenue per day without a filter reads amt_revenue - amt_revenue_no_customer of those days)
create or replace table mart_order_dates as
select order_date,
       count(*) as n_lines,
       count(cost) as n_lines_with_cost,
       count(*) filter (where is_order) as n_orders,
       count(*) filter (where is_order and customer_id is null) as n_orders_no_customer,
       sum(amt_revenue) as amt_revenue,
       coalesce(sum(amt_revenue) filter (where customer_id is null), 0) as amt_revenue_no_customer,
       count(*) filter (where not is_void and customer_id is not null) as n_lines_customer
from stg_orders
where in_build_days(order_date)
group by order_date
