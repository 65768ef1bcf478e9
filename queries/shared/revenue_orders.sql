-- shared piece revenue_orders: orders that count as revenue (not cancelled, returned or refunded)
-- params: $non_revenue_statuses VARCHAR[]
select customer_id, order_date, amount
from orders
where not list_contains($non_revenue_statuses, lower(trim(coalesce(status, ''))))
