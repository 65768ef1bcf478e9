-- filter_options: the values a filter can offer, per dimension, most frequent first
-- params: (none)
-- returns: dimension ('segment', 'region', 'channel', 'owner', 'source', 'opportunity_owner', 'category'),
--   value, n_rows
select dimension, value, count(*) as n_rows
from (
    select 'segment' as dimension, segment as value from stg_customers
    union all select 'region', region from stg_customers
    union all select 'channel', channel from stg_customers
    union all select 'owner', owner from stg_customers
    union all select 'source', source from stg_opportunities
    union all select 'opportunity_owner', owner from stg_opportunities
    union all select 'category', category from stg_complaints
)
where value is not null
group by dimension, value
order by dimension, n_rows desc, value
