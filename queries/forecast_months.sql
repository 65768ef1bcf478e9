-- forecast_months: expected revenue per expected close month from the pipeline open on $as_of, with a range
-- params: $as_of DATE, $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[], $owner VARCHAR[],
--   $rate_by VARCHAR, $min_closed INTEGER, $commit_min DOUBLE (a deal at this chance or more is "commit"),
--   $z DOUBLE (normal quantile of the range, 1.96 for 95%)
-- returns: month (NULL: no close date and no won deal to take a cycle from), n_open, n_without_rate,
--   amt_best_case (every open deal won), amt_commit (deals at $commit_min or more), amt_weighted (sum of chance x
--   amount), amt_sd (binomial spread: sqrt of the sum of p (1 - p) amount^2), amt_low, amt_high (weighted -/+ z sd,
--   not below 0)
with
-- include: forecast_base
by_month as (
    select date_trunc('month', expected_close_on)::date as month,
           count(*) as n_open,
           count(*) filter (where rate_win is null) as n_without_rate,
           sum(amount) as amt_best_case,
           coalesce(sum(amount) filter (where rate_win >= $commit_min), 0) as amt_commit,
           coalesce(sum(rate_win * amount), 0) as amt_weighted,
           sqrt(coalesce(sum(rate_win * (1 - rate_win) * amount * amount), 0)) as amt_sd
    from open_scored
    group by all
)
select month, n_open, n_without_rate, amt_best_case, amt_commit, amt_weighted, amt_sd,
       greatest(amt_weighted - $z * amt_sd, 0) as amt_low, amt_weighted + $z * amt_sd as amt_high
from by_month
order by month nulls last
