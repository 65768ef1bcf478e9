-- forecast_opportunities: the opportunities open on $as_of, each with its chance to be won (the share of closed
--   opportunities won after reaching its step) and its expected close month
-- params: $as_of DATE, $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[], $owner VARCHAR[] (empty
--   = all), $rate_by VARCHAR ('pooled'|'owner'|'product': a group's own rate when it closed $min_closed or
--   more from that step),
--   $min_closed INTEGER
-- returns: opportunity_id, owner, stage_key, pos, is_stage_unknown, amount, is_amount_missing, rate_win
--   (NULL: no closed history from that step), rate_source ('owner'|'pooled'), n_closed_behind,
--   expected_close_on, is_close_date_used, month (first day of the expected close month), amt_weighted
with
-- include: forecast_base
scored as (
    select *, date_trunc('month', expected_close_on)::date as month, rate_win * amount as amt_weighted
    from open_scored
)
select opportunity_id, owner, stage_key, pos, is_stage_unknown, amount, is_amount_missing, rate_win, rate_source,
       n_closed_behind, expected_close_on, is_close_date_used, month, amt_weighted
from scored
order by amt_weighted desc nulls last, opportunity_id
