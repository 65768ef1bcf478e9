-- shared piece complaints_others_counted: the others of complaints_churn_base_kept (an order in the period, no
--   complaint in it, the customer filters applied in status), counted per first order in the period, lost or not and
--   the day lost, the first day lost after that order; without a customer filter complaints_others_kept reads the same rows from mart_complaint_others
    select 'others' as grp, first_order_in_period as origin, is_churned,
           case when is_churned then lost_date end as lost_date, lost_after_first_order as lost_after_origin, ref_date,
           count(*)::bigint as n
    from status
    where not complained_in_period
    group by all
