-- stg_opportunities: one row per opportunity, with its default status and the date it counts from
-- (a table, built at every load: the first stage entered is an aggregate over the whole history, which
--   every funnel query would otherwise pay again)
-- grain: opportunity_id; source: opportunities, opportunity_stage_history, vocabulary (won_stage, lost_stage)
--   stage_key: the stage in lower case, trimmed (how every stage rule compares it)
--   status: 'won' / 'lost' by the known closing stage names, else 'open' (the funnel page can name others)
--   effective_created: created_date, else the first stage entered, else close_date
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
       case when list_contains(w.won, lower(trim(o.stage))) then 'won'
            when list_contains(w.lost, lower(trim(o.stage))) then 'lost'
            else 'open' end as status,
       coalesce(o.created_date, f.first_entered_on, o.close_date) as effective_created,
       ow.* exclude (owner, left_on), pa.* exclude (product)  -- side files: the owner's team, the product's attributes
from opportunities o
cross join words w
left join first_entered f using (opportunity_id)
left join owners ow on ow.owner = o.owner
left join product_attributes pa on pa.product = o.product
