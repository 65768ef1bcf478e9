-- funnel_stage_vocab: the stages present in the opportunities and their history, as the funnel settings offer
--   them
-- params: (none)
-- returns: one row per stage_key (lower-cased, trimmed stage): label (the most common spelling), n_current
--   (opportunities now at it), n_history (history rows of loaded opportunities)
with spellings as (
    select trim(stage) as label, sum(cur) as n_current, sum(his) as n_history
    from (
        select stage, 1 as cur, 0 as his from stg_opportunities
        union all
        -- history of opportunities no longer loaded (e.g. the opportunities were replaced) is left out
        select h.stage, 0, 1 from stg_opportunity_stage_history h semi join stg_opportunities o using (opportunity_id)
    )
    where stage is not null and trim(stage) <> ''
    group by trim(stage)
)
select lower(label) as stage_key,
       first(label order by n_current + n_history desc, label) as label,
       sum(n_current) as n_current,
       sum(n_history) as n_history
from spellings
group by lower(label)
order by sum(n_current) + sum(n_history) desc, stage_key
