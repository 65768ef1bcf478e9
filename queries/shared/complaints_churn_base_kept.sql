-- shared piece complaints_churn_base_kept: complaints_churn_base when mart_complaint_customers holds each customer's
--   churn state and first order in the period (the default churn rule and period: crmlens.model.complaint_pieces).
--   The same population, but the others (an order in the period, no complaint in it: the mart's
--   complained_in_period) counted per row of what the queries read of them (first order in the period, lost or not,
--   the day lost), n customers a row, instead of one row each (complaints_others_counted; without a customer filter
--   complaints_others_kept reads them counted at load from mart_complaint_others); complainers one row each (n = 1)
-- include: complaints_churn_state_kept
-- include: complaints_first_complaint
,
population as materialized (
    select s.*, f.first_at, f.category, f.band, f.hours_to_resolve_or_open, f.is_unresolved, f.is_breached,
           f.amt_revenue_before, 'complainers' as grp, f.first_at::date as origin,
           first_loss_after(if(s.is_listed, s.is_churned, null), s.lost_date,
                            (select min(l.lost_date) from losses l
                             where l.customer_id = s.customer_id and l.lost_date > f.first_at::date)) as lost_after_origin,
           1::bigint as n
    from status s
    join first_complaint f on f.customer_id = s.customer_id
    union all by name
    -- include: complaints_others_counted
)
