-- opportunity_status(stage_key, won_stages, lost_stages): 'won' / 'lost' / 'open' by the funnel's stage settings
-- (the page's won and lost stage lists; stg_opportunities.status is the same rule with the known stage names)
create or replace macro opportunity_status(stage_key, won_stages, lost_stages) as
case when list_contains(won_stages, stage_key) then 'won'
     when list_contains(lost_stages, stage_key) then 'lost'
     else 'open' end
