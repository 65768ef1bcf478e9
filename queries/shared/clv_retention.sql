-- shared piece clv_retention: the yearly retention the lifetime value (CLV) reckons with, the one definition the
--   Loyalty ladder's CLV and the Churn page's what-if share: of the customers in a lifetime 365 days before the as-of
--   day (not lost by the churn rule then: was_active_year_ago), the share still in one on it (is_in_lifetime). It is
--   1 - the Churn page's 12-month churn rate for the same period, rule and filters (a test compares them).
-- Input: base, one row per customer with was_active_year_ago and is_in_lifetime. Output: retention, one row:
-- n_prev_active, n_retained, rate_retention (NULL when nobody was active a year before).
retention as (
    select count(*) filter (where was_active_year_ago) as n_prev_active,
           count(*) filter (where was_active_year_ago and is_in_lifetime) as n_retained,
           count(*) filter (where was_active_year_ago and is_in_lifetime) / nullif(count(*) filter (where was_active_year_ago), 0)
               as rate_retention
    from base
),
