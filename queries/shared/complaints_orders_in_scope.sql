-- shared piece complaints_orders_in_scope: completed orders in the period of the customers the filters keep
    select o.customer_id, o.order_date
    from stg_orders o left join stg_customers cu on cu.customer_id = o.customer_id
    where o.is_order
      and o.order_date between $start and $end
      and (len($region) = 0 or list_contains($region, cu.region))
      and (len($segment) = 0 or list_contains($segment, cu.segment))
      and (len($owner) = 0 or list_contains($owner, cu.owner))
