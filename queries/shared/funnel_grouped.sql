-- shared piece funnel_grouped: after funnel_base, the opportunities in reach with the group $by puts them in
-- Output: CTE grouped (grp: the owner, source, segment, region, product or side-file column value; then reach's columns)
,
attribute as (
    -- $by naming a side file's column (an owner's manager, a product's series: stg_opportunities has them);
    --   read by name at run time, and only when $by is none of the five dimensions
    select opportunity_id, to_json(s) ->> $by as value
    from stg_opportunities s
    where $by not in ('owner', 'source', 'segment', 'region', 'product')
      and opportunity_id in (select opportunity_id from reach)
),
grouped as (
    select case $by when 'owner' then owner when 'source' then source when 'segment' then segment
                    when 'region' then region when 'product' then product else a.value end as grp, r.*
    from reach r
    left join attribute a using (opportunity_id)
)
