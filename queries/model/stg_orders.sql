-- stg_orders: one row per order as loaded, with the rule deciding what it counts as
-- grain: order_id; source: orders, vocabulary (non_revenue_status), product_attributes (a side file's columns)
--   is_void: cancelled, returned or refunded (by its status): counts for nothing
--   is_order: a purchase: not void and a positive amount; the only rows that count as orders,
--             reset the churn clock and make a customer a buyer
--   is_refund: a negative amount that is not void: it reduces revenue, it is never an order
--   amt_revenue: what the row adds to revenue (0 when void, negative for a refund)
create or replace view stg_orders as
with void_words as (
    select list(word) as words from vocabulary where kind = 'non_revenue_status'
)
select o.*,
       list_contains(v.words, lower(trim(coalesce(o.status, '')))) as is_void,
       not is_void and coalesce(o.amount, 0) > 0 as is_order,
       not is_void and coalesce(o.amount, 0) < 0 as is_refund,
       if(is_void, 0, coalesce(o.amount, 0)) as amt_revenue,
       pa.* exclude (product)  -- the product's attributes from a side file (series, list price, ...)
from orders o
cross join void_words v
left join product_attributes pa on pa.product = o.product
