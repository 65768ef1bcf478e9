-- mart_stage_spellings: each spelling of a stage name, how many opportunities stand on it and how many
--   history rows entered it (the funnel page's stage list is built from it)
-- grain: label (trimmed spelling); source: stg_opportunities, stg_opportunity_stage_history
create or replace table mart_stage_spellings as
select trim(stage) as label, sum(cur) as n_current, sum(his) as n_history
from (
    select stage, 1 as cur, 0 as his from stg_opportunities
    union all
    -- history of opportunities no longer loaded (e.g. the opportunities were replaced) is left out
    select h.stage, 0, 1 from stg_opportunity_stage_history h semi join stg_opportunities o using (opportunity_id)
)
where stage is not null and trim(stage) <> ''
group by trim(stage)
