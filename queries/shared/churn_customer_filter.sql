-- shared piece churn_customer_filter: the customers the page's filters keep
    select customer_id from stg_customers c
    where (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
      and (len($channel) = 0 or list_contains($channel, c.channel))
      and (len($owner) = 0 or list_contains($owner, c.owner))
