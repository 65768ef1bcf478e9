-- future_value_summary: one row per customer who bought by the calibration end, the input of the
--   customer-base models (crmlens.customer_base): repeat purchase days, recency and age in weeks
-- params: $end DATE (calibration end, the period end; purchase days on or before it count; the days
--   after it, to the newest order day, are the holdout; a period ending after the newest order day is
--   measured to that day, period_as_of, so weeks without order data are not weeks without purchases)
-- returns: customer_id, first_ordered_at, n_repeat (purchase days after the first, up to $end: several
--   orders of one day are one purchase), weeks_recency (first to last purchase day, weeks), weeks_age (first
--   purchase day to period_as_of($end), weeks), amt_repeat_avg (average amount of the repeat purchase days; NULL without
--   any), n_repeat_holdout (purchase days after $end), amt_holdout (their amount), newest_ordered_at (the newest
--   purchase day in the data: the holdout's end)
with calibration as (
    select customer_id,
           min(order_date) as first_ordered_at,
           max(order_date) as last_ordered_at,
           count(*) - 1 as n_repeat,
           (sum(amount) - arg_min(amount, order_date)) / nullif(count(*) - 1, 0) as amt_repeat_avg
    from mart_customer_days
    where order_date <= $end::date
    group by customer_id
),
holdout as (
    select customer_id, count(*) as n_repeat_holdout, sum(amount) as amt_holdout
    from mart_customer_days
    where order_date > $end::date
    group by customer_id
)
select c.customer_id, c.first_ordered_at, c.n_repeat,
       (c.last_ordered_at - c.first_ordered_at) / 7.0 as weeks_recency,
       (period_as_of($end) - c.first_ordered_at) / 7.0 as weeks_age,
       c.amt_repeat_avg,
       coalesce(h.n_repeat_holdout, 0) as n_repeat_holdout,
       coalesce(h.amt_holdout, 0) as amt_holdout,
       (select max(order_date) from mart_customer_days) as newest_ordered_at
from calibration c
left join holdout h using (customer_id)
order by c.customer_id
