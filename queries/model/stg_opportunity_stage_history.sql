-- stg_opportunity_stage_history: one row per stage an opportunity entered, as loaded
-- grain: opportunity_id, entered_at; source: opportunity_stage_history
create or replace view stg_opportunity_stage_history as
select h.*, lower(trim(h.stage)) as stage_key
from opportunity_stage_history h
