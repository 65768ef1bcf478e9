-- shared piece complaints_churn_state: CTEs ref and status, each customer with an order in the period who passes
--   the customer filters, with their churn state at the newest order day (follows complaints_scope; read by
--   complaints_churn_base): kept in mart_complaint_customers for the default rule, else worked out here; their
--   first order in the period kept there for the default period, else worked out here. With both kept the
--   queries take complaints_churn_state_kept instead (crmlens.model.complaint_pieces): the same rows, a shorter plan
,
ref as (
    -- churn is judged at the newest order day in the data, so complainers of any period are followed up to
    -- today's data; the rule is the churn page's (customer_spells), which agrees with it at that day
    select max(order_date) as ref_date from mart_customer_days where not $complaint_rule_mart
    having not $complaint_rule_mart  -- (one row from one of the two)
    union all
    select max(ref_date) from mart_complaint_customers where $complaint_rule_mart having $complaint_rule_mart
),
kept as (
    -- the default rule, kept at load (mart_complaint_customers)
    select customer_id, first_order, last_order, region, segment, owner, is_churned, lost_date, is_listed, ref_date,
           case when $complaint_period_mart then first_order_in_period end as kept_in_period
    from mart_complaint_customers
    where $complaint_rule_mart
),
buyers as (
    -- customers with an order by the reference date (mart_customers: their first and last order day)
    select customer_id, first_order_on as first_order, last_order_on as last_order
    from mart_customers
    where not $complaint_rule_mart and first_order_on is not null
),
live as (
    -- lost: a contract end date on or before the reference date; else an explicit churned flag; else the one
    -- definition from orders (customer_spells, their latest lifetime: no order for max($churn_days,
    --   $churn_multiplier x the customer's usual gap) days), dated when that time ran out
    select b.customer_id, b.first_order, b.last_order, cu.region, cu.segment, cu.owner,
           coalesce(listed_lost(cu.churned, cu.churn_date, r.ref_date), sp.is_lost) as is_churned,
           listed_lost_date(cu.churned, cu.churn_date, r.ref_date, sp.lost_date, b.last_order) as lost_date,
           listed_lost(cu.churned, cu.churn_date, r.ref_date) is not null as is_listed,
           r.ref_date, null::date as kept_in_period
    from buyers b cross join ref r
    left join (
        select * from lifetimes((select ref_date from ref), $churn_days, $churn_multiplier, $use_spells_mart)
        where not $complaint_rule_mart
        qualify row_number() over (partition by customer_id order by spell_no desc) = 1
    ) sp using (customer_id)
    left join stg_customers cu on cu.customer_id = b.customer_id
),
in_period as (
    -- each customer's first order day in the period (kept for the default period: with the default rule `kept` has it)
    select customer_id, first_order_in_period from mart_complaint_customers
    where $complaint_period_mart and not $complaint_rule_mart and first_order_in_period is not null
    union all
    select customer_id, min(order_date) from mart_customer_days
    where not $complaint_period_mart and order_date between $start and $end
    group by customer_id
),
status as (
    select s.customer_id, s.first_order, s.last_order, s.region, s.segment, s.owner, s.is_churned, s.lost_date,
           s.is_listed, s.ref_date, coalesce(s.kept_in_period, i.first_order_in_period) as first_order_in_period
    from (select * from kept union all by name select * from live) s
    left join in_period i on i.customer_id = s.customer_id
    where coalesce(s.kept_in_period, i.first_order_in_period) is not null
      and s.first_order <= $end
      and (len($region) = 0 or list_contains($region, s.region))
      and (len($segment) = 0 or list_contains($segment, s.segment))
      and (len($owner) = 0 or list_contains($owner, s.owner))
)
-- include: complaints_losses
