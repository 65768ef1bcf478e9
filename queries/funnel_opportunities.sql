-- funnel_opportunities: the opportunities that reached a step, or dropped off after it (reached it but not
--   the next)
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model), $list_stage VARCHAR,
--   $list_mode VARCHAR ('reached' or 'dropped'), $limit INTEGER, $offset INTEGER
-- returns: one page of opportunities (largest amount first): opportunity_id, customer_id, stage, status,
--   amount, owner, source, product, segment, region, created_date, closed_on, rule, n_total
-- include: funnel_base
,
chosen as (
    -- the opportunities of the list: only what orders and counts them (the wide columns come for one page below)
    select r.opportunity_id, r.mart_row, r.amount, r.status, r.closed_on, r.rule
    from reach r
    join levels l on l.stage_key = $list_stage
    where case when $list_mode = 'dropped' then r.reach = l.pos else r.reach >= l.pos end
),
page as (
    select * from chosen
    order by amount desc nulls last, opportunity_id
    limit $limit offset $offset
)
select p.opportunity_id, o.customer_id, trim(o.stage) as stage, p.status, p.amount, o.owner, o.source, o.product,
       o.segment, o.region, o.created_date, p.closed_on, p.rule,
       (select count(*) from chosen) as n_total
from page p
-- by its row: the scan reads the wide columns where the page's rows are, not those of every opportunity
join mart_opportunities o on o.rowid = p.mart_row
order by p.amount desc nulls last, p.opportunity_id
