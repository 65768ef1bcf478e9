-- stg_opportunities: one row per opportunity, with its default status and the date it counts from
-- (a table, built at every load: the first stage entered is an aggregate over the whole history, which
--   every funnel query would otherwise pay again)
-- grain: opportunity_id; source: opportunities, opportunity_stage_history, vocabulary (won_stage, lost_stage)
--   stage_key: the stage in lower case, trimmed (how every stage rule compares it)
--   status: 'won' / 'lost' by the known closing stage names, else 'open' (opportunity_status; the funnel page can
--     name others)
--   effective_created: created_date, else the earliest date the row has (the first stage entered, its close
--     date): pipeline exports with only an engage and a close date still fall in a period (issue 14, item 10)
--   dated_by: where effective_created came from: 'created', 'first_stage', 'close'; NULL = undated (no date at all)
create or replace table stg_opportunities as
with words as (
    select list(word) filter (where kind = 'won_stage') as won, list(word) filter (where kind = 'lost_stage') as lost
    from vocabulary
),
first_entered as (
    select opportunity_id, min(entered_at)::date as first_entered_on
    from opportunity_stage_history
    group by opportunity_id
)
select o.*,
       lower(trim(o.stage)) as stage_key,
       opportunity_status(lower(trim(o.stage)), w.won, w.lost) as status,
       coalesce(o.created_date, least(f.first_entered_on, o.close_date)) as effective_created,
       case when o.created_date is not null then 'created'
            when f.first_entered_on is not null and f.first_entered_on <= coalesce(o.close_date, f.first_entered_on) then 'first_stage'
            when o.close_date is not null then 'close' end as dated_by,
       ow.* exclude (owner, left_on), pa.* exclude (product)  -- side files: the owner's team, the product's attributes
from opportunities o
cross join words w
left join first_entered f using (opportunity_id)
left join owners ow on ow.owner = o.owner
left join product_attributes pa on pa.product = o.product
