-- funnel_breakdown_stages: how far the opportunities of the top groups (by value) got, step by step
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model), $by VARCHAR, $top_n INTEGER
-- returns: one row per (top group, step): rank, grp, pos, stage_key, n_reached, rate_overall
-- include: funnel_base
-- include: funnel_grouped
,
top_groups as (
    -- the same order as funnel_breakdown: value, then count, then name
    select grp, row_number() over (order by coalesce(sum(amount), 0) desc, count(*) desc, grp nulls last) as rank
    from grouped
    group by grp
    qualify rank <= $top_n
)
select t.rank, t.grp, l.pos, l.stage_key,
       count(g.opportunity_id) as n_reached,
       count(g.opportunity_id) / nullif(first_value(count(g.opportunity_id)) over (partition by t.rank order by l.pos), 0) as rate_overall
from top_groups t
cross join levels l
left join grouped g on g.grp is not distinct from t.grp and g.reach >= l.pos
group by t.rank, t.grp, l.pos, l.stage_key
order by t.rank, l.pos
