-- shared piece complaints_churn_base_kept: complaints_churn_base when mart_complaint_customers holds each customer's
--   churn state and first order in the period (the default churn rule and period: crmlens.model.complaint_pieces).
--   The same population, but the others (an order in the period, no complaint in it: the mart's
--   complained_in_period) counted per row of what the queries read of them (first order in the period, lost or not,
--   the day lost), n customers a row, instead of one row each; complainers one row each (n = 1)
-- include: complaints_churn_state_kept
-- include: complaints_first_complaint
,
population as materialized (
    select s.*, f.first_at, f.category, f.band, f.hours_to_resolve_or_open, f.is_unresolved, f.is_breached,
           f.amt_revenue_before, 'complainers' as grp, f.first_at::date as origin, 1::bigint as n
    from status s
    join first_complaint f on f.customer_id = s.customer_id
    union all by name
    select 'others' as grp, first_order_in_period as origin, is_churned,
           case when is_churned then lost_date end as lost_date, ref_date, count(*)::bigint as n
    from status
    where not complained_in_period
    group by all
)
