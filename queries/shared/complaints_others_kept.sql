-- shared piece complaints_others_kept: complaints_others_counted without a customer filter, counted at load
--   (mart_complaint_others; crmlens.model.complaint_pieces)
    select 'others' as grp, first_order_in_period as origin, is_churned, lost_date,
           lost_after_first_order as lost_after_origin, ref_date, n
    from mart_complaint_others
    where first_order_in_period <= $end
