-- shared piece complaints_orders_in_scope: the order days in the period of customers who pass the customer
--   filters (mart_customer_days: one row per customer and day, n_orders orders that day; without a customer
--   filter no customer is looked up)
    select d.customer_id, d.order_date, d.n_orders
    from mart_customer_days d
    where d.order_date between $start and $end and len($region) + len($segment) + len($owner) = 0
    union all
    select d.customer_id, d.order_date, d.n_orders
    from mart_customer_days d left join mart_customers cu on cu.customer_id = d.customer_id
    where d.order_date between $start and $end and len($region) + len($segment) + len($owner) > 0
      and (len($region) = 0 or list_contains($region, cu.region))
      and (len($segment) = 0 or list_contains($segment, cu.segment))
      and (len($owner) = 0 or list_contains($owner, cu.owner))
