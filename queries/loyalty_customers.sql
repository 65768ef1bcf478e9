-- loyalty_customers: one page of customers at the period end with every loyalty measure, searched, filtered
--   and sorted
-- params: $start DATE, $end DATE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[],
--   $owner VARCHAR[], $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE, $min_referrals INTEGER,
--   $min_orders_client INTEGER, $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE,
--   $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER, $churn_multiplier DOUBLE, $measure VARCHAR, $abc_a DOUBLE,
--   $abc_b DOUBLE, $top_pct DOUBLE, $discount_rate DOUBLE, $horizon_years INTEGER, $marketing_cost DOUBLE,
--   $risk_cost_pct DOUBLE, $value_pct DOUBLE, $risk_measure VARCHAR, $risk_days INTEGER,
--   $risk_complaints INTEGER, $search VARCHAR ('' = all), $states VARCHAR[] (rungs or 'lost'; empty = all),
--   $abc_classes VARCHAR[], $rfm_segments VARCHAR[], $quadrants VARCHAR[],
--   $sort VARCHAR ('lifetime'|'revenue_period'|'clv'|'recency'|'customer_id'), $limit INTEGER,
--   $offset INTEGER, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, name, segment, region, channel, owner, rung, is_lapsed, n_orders, last_ordered_at,
--   days_since_order, amt_revenue_period, amt_profit_period,
-- amt_revenue_lifetime, amt_margin_lifetime (historical value), amt_clv_forward, latest_satisfaction,
--     latest_nps, n_unresolved, n_referrals, n_complaints_period,
--   abc_class, r_score, f_score, m_score, rfm_segment, quadrant, n_matching (rows matching before paging)
with dates(as_of) as (select $end::date),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
-- include: loyalty_customer_measures
matching as (
    select *
    from measures
    where ($search = ''
           or contains(lower(customer_id), lower(trim($search)))
           or contains(lower(coalesce(name, '')), lower(trim($search))))
      and (len($states) = 0 or list_contains($states, rung) or list_contains($states, state))
      and (len($abc_classes) = 0 or list_contains($abc_classes, abc_class))
      and (len($rfm_segments) = 0 or list_contains($rfm_segments, rfm_segment))
      and (len($quadrants) = 0 or list_contains($quadrants, quadrant))
)
select customer_id, name, segment, region, channel, owner, rung, is_lapsed, n_orders, last_ordered_at, days_since_order,
       amt_revenue_period, amt_profit_period, amt_revenue_lifetime, amt_margin_lifetime, amt_clv_forward,
       latest_satisfaction, latest_nps, n_unresolved, n_referrals, n_complaints_period,
       abc_class, r_score, f_score, m_score, rfm_segment, quadrant,
       -- counted apart: a window over every matching row would hold all their columns to count them
       (select count(*) from matching) as n_matching
from matching
order by case when $sort = 'lifetime' then amt_margin_lifetime end desc nulls last,
         case when $sort = 'revenue_period' then amt_revenue_period end desc nulls last,
         case when $sort = 'clv' then amt_clv_forward end desc nulls last,
         case when $sort = 'recency' then days_since_order end desc nulls last,
         customer_id
limit $limit offset $offset
