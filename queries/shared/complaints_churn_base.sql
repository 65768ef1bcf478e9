-- shared piece complaints_churn_base: per-customer orders and churn state for the link between complaints
-- and churn (follows complaints_scope); with the default churn rule each customer's state is read from
-- mart_complaint_customers ($complaint_rule_mart), at the default period their first order in it too
-- ($complaint_period_mart), else both are worked out here the same way
-- include: complaints_churn_state
,
any_complaint as (
    -- customers with any complaint in the period (whatever the complaint filters)
    select distinct customer_id from fk
    where customer_id is not null and created_at >= $start and created_at < $end + interval 1 day
)
-- include: complaints_first_complaint
,
population as materialized (
    -- complainers and others, on the same footing: customers with a completed order in the period, with a
    -- (matching) complaint in it or with no complaint in it (a complainer who did not order in the period is in
    -- neither group: the others must have ordered, so must they)
    select s.*, f.first_at, f.category, f.band, f.hours_to_resolve_or_open, f.is_unresolved, f.is_breached,
           f.amt_revenue_before,
           case when f.customer_id is not null then 'complainers' else 'others' end as grp,
           case when f.customer_id is not null then f.first_at::date else s.first_order_in_period end as origin,
           first_loss_after(if(s.is_listed, s.is_churned, null), s.lost_date,
                            (select min(l.lost_date) from losses l
                             where l.customer_id = s.customer_id
                               and l.lost_date > case when f.customer_id is not null then f.first_at::date
                                                      else s.first_order_in_period end)) as lost_after_origin,
           1::bigint as n  -- customers on the row (complaints_churn_base_kept counts the others per row)
    from status s
    left join first_complaint f on f.customer_id = s.customer_id
    where f.customer_id is not null or s.customer_id not in (select customer_id from any_complaint)
)
