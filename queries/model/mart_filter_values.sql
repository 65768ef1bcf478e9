-- mart_filter_values: the values each page filter can offer, per dimension, with how many rows hold them
-- grain: dimension, value; source: stg_customers, stg_opportunities, stg_complaints
--   dimension: 'segment', 'region', 'channel', 'owner' (customers), 'source', 'opportunity_owner'
--              (opportunities), 'category' (complaints)
create or replace table mart_filter_values as
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
