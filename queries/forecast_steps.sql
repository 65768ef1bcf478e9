-- forecast_steps: each funnel step's win rate from the opportunities closed by $as_of (pooled)
-- params: $as_of DATE, $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[], $owner VARCHAR[],
--   $rate_by VARCHAR, $min_closed INTEGER
-- returns: pos, stage_key, n_closed (closed after reaching the step), n_won, rate_win (NULL when none closed)
with
-- include: forecast_base
steps as (select * from step_rates)
select pos, stage_key, n_closed, n_won, rate_win from steps order by pos
