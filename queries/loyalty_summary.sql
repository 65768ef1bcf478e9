-- loyalty_summary: loyalty figures at the period end, per rung, ABC class, RFM segment and grid cell, value
--   quadrant, customer segment, channel, Pareto percentile, and in total
-- params: $start DATE, $end DATE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[],
--   $owner VARCHAR[], $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE, $min_referrals INTEGER,
--   $min_orders_client INTEGER, $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE,
--   $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $measure VARCHAR ('revenue'|'profit'), $abc_a DOUBLE, $abc_b DOUBLE, $top_pct DOUBLE,
--   $discount_rate DOUBLE (% a year), $horizon_years INTEGER, $marketing_cost DOUBLE (a year per customer),
--   $risk_cost_pct DOUBLE, $value_pct DOUBLE, $risk_measure VARCHAR ('recency'|'complaints'),
--   $risk_days INTEGER, $risk_complaints INTEGER, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: one row per group: kind ('rung', 'abc', 'rfm', 'rfm_grid', 'quadrant', 'segment', 'channel',
--   'pareto', 'total'), key (rung, class, segment, R score, bucket 1-100; NULL = not set), key2 (FM score for
--   rfm_grid), grid_segment (its named segment),
-- n_customers, share_customers (of the kind), n_lapsed, n_without_survey, amt_revenue_period,
--     amt_profit_period, amt_value_period, share_value_period, amt_avg_value_period,
-- amt_value_lifetime, amt_margin_lifetime, amt_avg_recency_days, share_value_cumulative (pareto), n_top,
--     amt_value_top, share_value_top (total),
-- n_active_year, n_prev_active, n_retained (NULL where the group's own retention is not used), rate_retention (the
--     retention the group's CLV uses), retention_basis ('own': segment, channel, total; 'overall': rungs, ABC, RFM,
--     quadrants, Pareto, which the last year's purchases decide), amt_margin_year_per_active (order_margin),
--     factor_discounted_years, years_expected, amt_clv_forward (per active customer),
--     amt_clv_forward_sum (customers' own margins)
with dates(as_of) as (select $end::date),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_customer_measures
-- one pass over the customers to the cells every grouping is made of (rung x ABC class x RFM cell x quadrant x
--   segment x channel x Pareto bucket: thousands of cells for 100,000 customers), the groupings then over the cells.
--   One pass over the customers instead of a grouping set each (measured: half the time); the figures are the same
--   sums, counts and maxima (a Pareto bucket that is NULL is no group: kept drops it).
cells as (
    select rung, abc_class, rfm_segment, r_score, fm_score, quadrant, segment, channel, pareto_bucket,
           count(*) as n_customers,
           count(*) filter (where is_lapsed) as n_lapsed,
           count(*) filter (where latest_satisfaction is null and latest_nps is null) as n_without_survey,
           sum(amt_revenue_period) as amt_revenue_period,
           sum(amt_profit_period) as amt_profit_period,
           sum(amt_value_period) filter (where amt_value_period > 0) as amt_value_positive,
           sum(amt_value_period) as amt_value_period,
           sum(amt_value_lifetime) as amt_value_lifetime,
           sum(amt_margin_lifetime) as amt_margin_lifetime,
           sum(recency_days) as sum_recency_days,
           count(recency_days) as n_recency_days,
           max(share_value_cumulative) as share_value_cumulative,
           count(*) filter (where is_top) as n_top,
           sum(amt_value_period) filter (where is_top) as amt_value_top,
           count(*) filter (where is_active_year) as n_active_year,
           count(*) filter (where was_active_year_ago) as n_prev_active,
           count(*) filter (where was_active_year_ago and is_in_lifetime) as n_retained,
           sum(amt_margin_year) filter (where is_active_year) as amt_margin_year_active,
           sum(amt_clv_forward) as amt_clv_forward_sum
    from measures
    group by rung, abc_class, rfm_segment, r_score, fm_score, quadrant, segment, channel, pareto_bucket
),
grouped as (
    select
        case
            when grouping(r_score) = 0 then 'rfm_grid'
            when grouping(rung) = 0 then 'rung'
            when grouping(abc_class) = 0 then 'abc'
            when grouping(rfm_segment) = 0 then 'rfm'
            when grouping(quadrant) = 0 then 'quadrant'
            when grouping(segment) = 0 then 'segment'
            when grouping(channel) = 0 then 'channel'
            when grouping(pareto_bucket) = 0 then 'pareto'
            else 'total'
        end as kind,
        case
            when grouping(r_score) = 0 then r_score::varchar
            when grouping(rung) = 0 then rung
            when grouping(abc_class) = 0 then abc_class
            when grouping(rfm_segment) = 0 then rfm_segment
            when grouping(quadrant) = 0 then quadrant
            when grouping(segment) = 0 then segment
            when grouping(channel) = 0 then channel
            when grouping(pareto_bucket) = 0 then pareto_bucket::varchar
        end as key,
        if(grouping(fm_score) = 0, fm_score, null) as key2,
        if(grouping(r_score) = 0, rfm_segment, null) as grid_segment,
        sum(n_customers)::bigint as n_customers,
        sum(n_lapsed)::bigint as n_lapsed,
        sum(n_without_survey)::bigint as n_without_survey,
        sum(amt_revenue_period) as amt_revenue_period,
        sum(amt_profit_period) as amt_profit_period,
        sum(amt_value_positive) as amt_value_positive,
        sum(amt_value_period) as amt_value_period,
        sum(amt_value_lifetime) as amt_value_lifetime,
        sum(amt_margin_lifetime) as amt_margin_lifetime,
        sum(sum_recency_days) / nullif(sum(n_recency_days), 0) as amt_avg_recency_days,
        max(share_value_cumulative) as share_value_cumulative,
        sum(n_top)::bigint as n_top,
        sum(amt_value_top) as amt_value_top,
        sum(n_active_year)::bigint as n_active_year,
        sum(n_prev_active)::bigint as n_prev_active,
        sum(n_retained)::bigint as n_retained,
        sum(amt_margin_year_active) as amt_margin_year_active,
        sum(amt_clv_forward_sum) as amt_clv_forward_sum
    from cells
    group by grouping sets ((rung), (abc_class), (rfm_segment), (r_score, fm_score, rfm_segment), (quadrant), (segment),
                            (channel), (pareto_bucket), ())
),
kept as (
    select * from grouped
    where kind in ('total', 'rung', 'segment', 'channel') or key is not null
),
-- the CLV formula per group, with the group's margin and a retention that does not depend on the outcome it
--   measures. Customer segments and channels are attributes a customer had a year ago as well: their own
--   year-on-year retention. Rungs, ABC classes, RFM segments and cells, quadrants and Pareto buckets are decided
--   by the purchases of the last year (they need a purchase in the period, or count purchases), the outcome the
--   retention measures, so their own retention is biased by construction: they take the overall retention (the
--   'total' row) instead.
with_basis as (
    select *,
           if(kind in ('total', 'segment', 'channel'), 'own', 'overall') as retention_basis,
           n_retained / nullif(n_prev_active, 0) as rate_retention_own,
           max(n_retained / nullif(n_prev_active, 0)) filter (where kind = 'total') over () as rate_retention_overall
    from kept
),
group_clv as (
    select * exclude (n_prev_active, n_retained),
           -- the group's own counts only where its own retention is used
           if(retention_basis = 'own', n_prev_active, null) as n_prev_active,
           if(retention_basis = 'own', n_retained, null) as n_retained,
           if(retention_basis = 'own', rate_retention_own, rate_retention_overall) as rate_retention,
           amt_margin_year_active / nullif(n_active_year, 0) as amt_margin_year_per_active,
           clv_factor(rate_retention, $discount_rate, $horizon_years) as factor_discounted_years,
           clv_factor(rate_retention, 0, $horizon_years) as years_expected
    from with_basis
)
select kind, key, key2, grid_segment, n_customers,
       n_customers / sum(n_customers) over (partition by kind) as share_customers,
       n_lapsed, n_without_survey, amt_revenue_period, amt_profit_period, amt_value_period,
       amt_value_period / nullif(sum(amt_value_period) over (partition by kind), 0) as share_value_period,
       amt_value_period / n_customers as amt_avg_value_period,
       amt_value_lifetime, amt_margin_lifetime, amt_avg_recency_days, share_value_cumulative,
       n_top, amt_value_top, amt_value_top / nullif(amt_value_positive, 0) as share_value_top,
       n_active_year, n_prev_active, n_retained, rate_retention, retention_basis, amt_margin_year_per_active,
       factor_discounted_years, years_expected,
       clv_forward(amt_margin_year_per_active, $risk_cost_pct, $marketing_cost, factor_discounted_years) as amt_clv_forward,
       amt_clv_forward_sum
from group_clv
order by kind, key2, try_cast(key as integer), key
