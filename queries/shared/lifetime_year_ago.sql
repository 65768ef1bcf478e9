-- shared piece lifetime_year_ago: the customers in a lifetime 365 days before the as-of day (period_as_of($end)),
--   by the lifetimes as of that day: the base of the 12-month churn rate (churn_summary's year_ago, the same
--   predicate) and so of the CLV's yearly retention (clv_retention)
-- Input: spells (customer_id, spell_start, lost_date: the lifetimes as of period_as_of($end), lost_date NULL while
-- active). Output: year_ago_customers(customer_id), one row per customer.
year_ago_customers as (
    select distinct customer_id from spells
    where spell_start <= period_as_of($end) - 365
      and (lost_date is null or lost_date > period_as_of($end) - 365)
),
