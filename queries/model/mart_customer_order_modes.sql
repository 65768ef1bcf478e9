-- mart_customer_order_modes: each customer's most frequent value of each descriptive order column (product,
--   payment method, extra columns from the files) in the window the churn drivers read for the pages' default
--   period, kept at load (churn_drivers reads it when the page shows that period; any other period works it out)
-- grain: customer_id, attribute; source: stg_orders (is_order), mart_customer_days, mart_customer_period (its as_of)
--   from_date, to_date: the window: the year before the default period (the 365 days up to the newest date in the
--     data, mart_customer_period.as_of) and the period, up to the newest order day (period_as_of)
--   value: the value of most of their order lines in it; a tie goes to the value of their latest order, then the
--     first by name (as churn_drivers.sql)
create or replace table mart_customer_order_modes as
with window_days as (
    select (select max(as_of) from mart_customer_period) - 364 - 365 as from_date,
           (select max(order_date) from mart_customer_days) as to_date
),
order_columns as (
    select customer_id, order_date as _ordered_on,
           columns(* exclude (order_id, customer_id, order_date, amount, cost, quantity, status,
                              is_void, is_order, is_refund, amt_revenue))::varchar
    from stg_orders
    where order_date <= (select to_date from window_days) and order_date >= (select from_date from window_days)
      and is_order and customer_id is not null and in_build_scope(customer_id)
),
order_value_counts as (
    select customer_id, attribute, value, count(*) as n, max(_ordered_on) as last_ordered_on
    from order_columns unpivot (value for attribute in (columns(* exclude (customer_id, _ordered_on))))
    group by customer_id, attribute, value
)
select customer_id, attribute, first(value order by n desc, last_ordered_on desc, value) as value,
       (select from_date from window_days) as from_date, (select to_date from window_days) as to_date
from order_value_counts
group by customer_id, attribute
