-- shared piece complaints_churn_state_kept: complaints_churn_state when mart_complaint_customers holds every figure
--   it works out (the default churn rule and the default period: crmlens.model.complaint_pieces), read from it alone
,
status as (
    select customer_id, first_order, last_order, region, segment, owner, is_churned, lost_date, is_listed,
           lost_after_first_order, ref_date, first_order_in_period, complained_in_period
    from mart_complaint_customers
    where first_order_in_period is not null
      and first_order <= $end
      and (len($region) = 0 or list_contains($region, region))
      and (len($segment) = 0 or list_contains($segment, segment))
      and (len($owner) = 0 or list_contains($owner, owner))
)
-- include: complaints_losses
