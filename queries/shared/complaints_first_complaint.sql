-- shared piece complaints_first_complaint: CTE first_complaint, each complainer once under their first matching
--   complaint in the period (follows complaints_scope; read by complaints_churn_base and complaints_churn_base_kept)
,
first_complaint as (
    select customer_id, min(created_at) as first_at,
           arg_min(category, created_at) as category,
           arg_min(band, created_at) as band,
           arg_min(coalesce(hours_to_resolve, case when is_open then hours_open end), created_at) as hours_to_resolve_or_open,
           arg_min(is_open, created_at) as is_unresolved,
           arg_min(coalesce(is_breached, false), created_at) as is_breached,
           arg_min_null(amt_revenue_before, created_at) as amt_revenue_before  -- the first one's, NULL too
    from pk where customer_id is not null
    group by customer_id
)
