-- complaints_filter_options: values the complaint filters offer (categories mapped), most frequent first
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[]
-- returns: dimension ('category', 'severity', 'complaint_channel'), value, n_rows
with cat_map as (
    select unnest($category_aliases) as alias, unnest($category_keys) as category_key
),
k as (
    select coalesce(m.category_key, nullif(k.category_name, '')) as category, k.severity, k.channel
    from mart_complaints k
    left join cat_map m on m.alias = k.category_name
)
select dimension, value, count(*) as n_rows
from (
    select 'category' as dimension, category as value from k
    union all select 'severity', severity from k
    union all select 'complaint_channel', channel from k
)
where value is not null
group by dimension, value
order by dimension, n_rows desc, value
