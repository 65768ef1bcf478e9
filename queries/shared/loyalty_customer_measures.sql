-- shared piece loyalty_customer_measures: per-customer value, ABC class, RFM scores and segment, CLV and
--   value quadrant at the period end
-- Input: rung_states at the single date $end (its step_* figures are then the customer's) and spells (the lifetimes
-- as of period_as_of($end): loyalty_rung_rules'; with loyalty_states_mart the year-ago flags come from the mart
-- instead: lifetime_year_ago_mart). Output: measures, one row per customer.
complaint_facts as (
    select customer_id, count(*) as n_complaints_period
    from stg_complaints
    where customer_id is not null and created_at::date between $start and $end
    group by customer_id
),
-- include: lifetime_year_ago
base as (
    select s.*,
           coalesce(s.step_n_orders_period, 0) as n_orders_period,
           coalesce(s.step_amt_revenue_period, 0) as amt_revenue_period,
           s.step_amt_profit_period as amt_profit_period,
           s.step_last_ordered_in_period as last_ordered_in_period,
           s.amt_revenue_step as amt_revenue_lifetime,
           s.step_amt_profit as amt_profit_lifetime,
           coalesce(s.step_amt_margin, 0) as amt_margin_lifetime,
           coalesce(s.step_amt_margin_year, 0) as amt_margin_year,
           coalesce(s.step_is_active_year, false) as is_active_year,
           y.customer_id is not null as was_active_year_ago,
           if($measure = 'profit', s.step_amt_profit_period, coalesce(s.step_amt_revenue_period, 0)) as amt_value_period,
           if($measure = 'profit', s.step_amt_profit, s.amt_revenue_step) as amt_value_lifetime,
           coalesce(k.n_complaints_period, 0) as n_complaints_period
    from rung_states s
    left join complaint_facts k using (customer_id)
    left join year_ago_customers y using (customer_id)
),
-- ABC: customers with a positive value in the period, largest first. A customer's class is set by
-- the share held by customers worth strictly more, so customers of equal value share a class.
abc_ranked as (
    select customer_id,
           sum(amt_value_period) over (order by amt_value_period desc
               range between unbounded preceding and current row)
             - amt_value_period * count(*) over (partition by amt_value_period) as amt_value_before,
           sum(amt_value_period) over (order by amt_value_period desc, customer_id
               rows between unbounded preceding and current row) as amt_value_cumulative,
           sum(amt_value_period) over () as amt_value_total,
           row_number() over (order by amt_value_period desc, customer_id) as value_rank,
           count(*) over () as n_valued
    from base
    where amt_value_period > 0
),
abc as (
    select customer_id, value_rank,
           case
               when amt_value_before * 100 < $abc_a * amt_value_total then 'A'
               when amt_value_before * 100 < ($abc_a + $abc_b) * amt_value_total then 'B'
               else 'C'
           end as abc_class,
           value_rank <= ceil(n_valued * $top_pct / 100.0) as is_top,
           amt_value_cumulative / amt_value_total as share_value_cumulative,
           ceil(value_rank * 100.0 / n_valued)::integer as pareto_bucket
    from abc_ranked
),
-- RFM over the period's purchases: quintile scores from ranks (ties share the lower score)
rfm_ranked as (
    select customer_id,
           $end::date - last_ordered_in_period as recency_days,
           rank() over (order by $end::date - last_ordered_in_period desc) as r_rank,
           rank() over (order by n_orders_period) as f_rank,
           rank() over (order by amt_revenue_period) as m_rank,
           count(*) over () as n_scored
    from base
    where n_orders_period > 0
),
rfm_scored as (
    select customer_id, recency_days,
           1 + floor(5 * (r_rank - 1) / n_scored)::integer as r_score,
           1 + floor(5 * (f_rank - 1) / n_scored)::integer as f_score,
           1 + floor(5 * (m_rank - 1) / n_scored)::integer as m_score
    from rfm_ranked
),
-- named segments on the grid of recency score x frequency-monetary score ((F + M) / 2, halves up)
rfm_grid(r_score, fm_score, rfm_segment) as (
    values (5, 1, 'new'), (5, 2, 'potential'), (5, 3, 'potential'), (5, 4, 'champions'), (5, 5, 'champions'),
           (4, 1, 'new'), (4, 2, 'potential'), (4, 3, 'potential'), (4, 4, 'loyal'), (4, 5, 'loyal'),
           (3, 1, 'hibernating'), (3, 2, 'hibernating'), (3, 3, 'potential'), (3, 4, 'loyal'), (3, 5, 'loyal'),
           (2, 1, 'hibernating'), (2, 2, 'hibernating'), (2, 3, 'at_risk'), (2, 4, 'at_risk'), (2, 5, 'cant_lose'),
           (1, 1, 'lost'), (1, 2, 'lost'), (1, 3, 'at_risk'), (1, 4, 'at_risk'), (1, 5, 'cant_lose')
),
rfm as (
    select s.*, (s.f_score + s.m_score + 1) // 2 as fm_score, g.rfm_segment
    from rfm_scored s
    join rfm_grid g on g.r_score = s.r_score and g.fm_score = (s.f_score + s.m_score + 1) // 2
),
-- CLV: the yearly retention (clv_retention), summed over the horizon: sum over t = 1..H of (r / (1 + d))^t
-- include: clv_retention
clv_factor as (
    select rate_retention, clv_factor(rate_retention, $discount_rate, $horizon_years) as factor_discounted_years
    from retention
),
-- value quadrants among customers who have bought: value at or above the chosen percentile is high;
-- risk is recency (no purchase for more than N days) or complaints in the period
value_line as (
    select quantile_cont(amt_value_lifetime, $value_pct / 100.0) as amt_value_line
    from base
    where n_orders >= 1
),
measures as (
    select b.*, a.abc_class, a.value_rank, coalesce(a.is_top, false) as is_top, a.share_value_cumulative, a.pareto_bucket,
           r.recency_days, r.r_score, r.f_score, r.m_score, r.fm_score, r.rfm_segment,
           $end::date - b.last_ordered_at as days_since_order,
           if(b.is_active_year,
              clv_forward(b.amt_margin_year, $risk_cost_pct, $marketing_cost, cf.factor_discounted_years),
              0) as amt_clv_forward,
           case when b.n_orders >= 1 then
               case
                   when b.amt_value_lifetime >= v.amt_value_line
                        and not if($risk_measure = 'complaints', b.n_complaints_period >= $risk_complaints,
                                   $end::date - b.last_ordered_at > $risk_days) then 'key'
                   when b.amt_value_lifetime >= v.amt_value_line then 'risky'
                   when not if($risk_measure = 'complaints', b.n_complaints_period >= $risk_complaints,
                               $end::date - b.last_ordered_at > $risk_days) then 'marginal'
                   else 'dog'
               end
           end as quadrant
    from base b
    cross join clv_factor cf
    cross join value_line v
    left join abc a using (customer_id)
    left join rfm r using (customer_id)
),
