-- mart_opportunities: one row per opportunity with its customer's segment and region and its stage history
--   folded into one list, so that funnel queries read one table and never the history rows
-- grain: opportunity_id; source: stg_opportunities, stg_customers, stg_opportunity_stage_history
--   segment, region: the customer's (NULL without a known customer)
--   history: when the opportunity first entered each stage of its history, earliest first
--            (list of {stage_key, entered_at}; a row without a stage keeps a NULL stage_key); NULL when it
--            has no history
create or replace table mart_opportunities as
with entered as (
    select opportunity_id, stage_key, min(entered_at) as entered_at
    from stg_opportunity_stage_history
    group by opportunity_id, stage_key
),
histories as (
    select opportunity_id,
           list({'stage_key': stage_key, 'entered_at': entered_at} order by entered_at, stage_key) as history
    from entered
    group by opportunity_id
)
select o.opportunity_id, o.customer_id, o.stage, o.stage_key, o.status, o.created_date, o.effective_created, o.dated_by,
       o.close_date, o.amount, o.owner, o.source, o.product, c.segment, c.region, h.history
from stg_opportunities o
left join stg_customers c on c.customer_id = o.customer_id
left join histories h on h.opportunity_id = o.opportunity_id
