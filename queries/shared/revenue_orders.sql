-- shared piece revenue_orders: orders that count as revenue (not cancelled, returned or refunded; refunds
--   included, they reduce revenue)
-- refunds (negative amounts) reduce revenue; only is_order rows count as orders (stg_orders)
select customer_id, order_date, amt_revenue as amount, is_order
from stg_orders
where not is_void
