-- shared piece clv_retention: the yearly retention the lifetime value (CLV) reckons with, the one definition the
--   Loyalty ladder's CLV and the Churn page's what-if share: of the customers who bought in the year before last
--   (the 365 days before the last 365 days up to $end), the share who bought again in the last 365 days
-- Input: base, one row per customer with is_active_prev_year and is_active_year. Output: retention, one row:
-- n_prev_active, n_retained, rate_retention (NULL when nobody bought in the year before last).
retention as (
    select count(*) filter (where is_active_prev_year) as n_prev_active,
           count(*) filter (where is_active_prev_year and is_active_year) as n_retained,
           count(*) filter (where is_active_prev_year and is_active_year) / nullif(count(*) filter (where is_active_prev_year), 0)
               as rate_retention
    from base
),
