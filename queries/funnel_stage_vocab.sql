-- funnel_stage_vocab: the stages present in the opportunities and their history, as the funnel settings offer
--   them
-- params: (none)
-- returns: one row per stage_key (lower-cased, trimmed stage): label (the most common spelling), n_current
--   (opportunities now at it), n_history (history rows of loaded opportunities)
with spellings as (
    select label, n_current, n_history from mart_stage_spellings
)
select lower(label) as stage_key,
       first(label order by n_current + n_history desc, label) as label,
       sum(n_current) as n_current,
       sum(n_history) as n_history
from spellings
group by lower(label)
order by sum(n_current) + sum(n_history) desc, stage_key
