-- funnel_opportunities: the opportunities that reached a step, or dropped off after it (reached it but not
--   the next)
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $include_undated BOOLEAN, $list_stage VARCHAR,
--   $list_mode VARCHAR ('reached' or 'dropped'), $limit INTEGER, $offset INTEGER
-- returns: one page of opportunities (largest amount first): opportunity_id, customer_id, stage, status,
--   amount, owner, source, product, segment, region, created_date, closed_on, rule, n_total
-- include: funnel_base
select r.opportunity_id, r.customer_id, r.stage, r.status, r.amount, r.owner, r.source, r.product,
       r.segment, r.region, r.created_date, r.closed_on, r.rule,
       count(*) over () as n_total
from reach r
join levels l on l.stage_key = $list_stage
where case when $list_mode = 'dropped' then r.reach = l.pos else r.reach >= l.pos end
order by r.amount desc nulls last, r.opportunity_id
limit $limit offset $offset
