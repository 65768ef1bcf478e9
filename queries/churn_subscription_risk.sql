-- churn_subscription_risk: active subscribers (explicit churn data with a tenure) ranked by their chance of
--   leaving soon, read off the survival curve of customers like them
-- params: $start DATE, $end DATE (inclusive), $definition VARCHAR ('explicit'), $churn_days INTEGER,
--   $churn_multiplier DOUBLE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $by_contract BOOLEAN (compare with customers of the same contract type, else with everybody),
--   $risk_groups VARCHAR[], $risk_months INTEGER[],
--   $risk_probs DOUBLE[] (the chance of leaving within the horizon for a customer of that group still
--     there after that many whole months; '' = no contract type),
--   $sort VARCHAR ('expected', 'probability', 'value', 'tenure'), $limit INTEGER, $offset INTEGER,
--   $use_spells_mart BOOLEAN, $use_churn_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, name, contract_type, tenure_months, monthly_revenue, p_leave, amt_at_stake (12 x
--   monthly revenue),
-- amt_expected_loss (p_leave x amt_at_stake), owner, segment, region, n_total, amt_total_expected_loss (over
--     the whole list)
with
-- include: churn_spells
risk as (
    select unnest($risk_groups) as grp, unnest($risk_months) as tenure_month, unnest($risk_probs) as p_leave
),
last_month as (
    select grp, max(tenure_month) as tenure_month from risk group by grp
),
active as (
    select s.customer_id, s.tenure_months, s.monthly_revenue, c.name, c.contract_type, c.owner, c.segment, c.region,
           if($by_contract, coalesce(c.contract_type, ''), 'all') as grp
    from spells s left join stg_customers c using (customer_id)
    where not s.is_lost and s.tenure_months is not null
),
listed as (
    -- past the longest tenure the curve has seen, the last known chance holds
    select a.customer_id, a.name, a.contract_type, a.tenure_months, a.monthly_revenue, r.p_leave,
           12 * a.monthly_revenue as amt_at_stake, r.p_leave * 12 * a.monthly_revenue as amt_expected_loss,
           a.owner, a.segment, a.region
    from active a
    left join last_month m using (grp)
    left join risk r on r.grp = a.grp and r.tenure_month = least(floor(a.tenure_months)::integer, m.tenure_month)
)
select *, count(*) over () as n_total, sum(amt_expected_loss) over () as amt_total_expected_loss
from listed
order by case $sort when 'expected' then amt_expected_loss when 'probability' then p_leave
                    when 'value' then amt_at_stake when 'tenure' then -tenure_months end desc nulls last,
         amt_at_stake desc nulls last, customer_id
limit $limit offset $offset
