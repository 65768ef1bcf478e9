-- forecast_targets: the targets of the months from $from_month to $to_month, per owner (NULL = the whole company)
-- params: $from_month DATE, $to_month DATE (first days of months, inclusive)
-- returns: month, owner (NULL = everyone), amt_target, n_rows_bad_month (rows of the whole table whose month
--   could not be read: the page says so)
with bad as (select count(*) filter (where month_start is null) as n from stg_targets)
select t.month_start as month, t.owner_key as owner, sum(t.amount) as amt_target, (select n from bad) as n_rows_bad_month
from stg_targets t
where t.month_start between $from_month and $to_month
group by all
order by month, owner nulls first
