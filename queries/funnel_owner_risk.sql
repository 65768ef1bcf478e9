-- funnel_owner_risk: per owner: open pipeline, win rate, the customers they hold and their share of revenue
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[], $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[], $date_columns VARCHAR[], $date_stages VARCHAR[], $non_revenue_statuses VARCHAR[], $risk_share DOUBLE
-- returns: one row per owner: n_open, amt_open_pipeline, n_won, n_lost, rate_win, n_customers (their book), n_buying_customers, amt_revenue (their customers' revenue in the period), rate_revenue_share, is_concentrated
-- BEGIN funnel_base: filtered opportunities and how far each reached (identical in every funnel_*.sql; tested)
with levels as (
    -- the funnel's steps: the stage order without the lost stages, numbered from 1
    select unnest(l) as stage_key, generate_subscripts(l, 1) as pos
    from (select list_filter($stages::varchar[], s -> not list_contains($lost_stages, s)) as l)
),
n_levels as (select count(*) as n from levels),
opp as materialized (
    select o.opportunity_id, o.customer_id, trim(o.stage) as stage, lower(trim(o.stage)) as stage_key,
           o.created_date, o.close_date, o.amount, o.owner, o.source, o.product, c.segment, c.region,
           case when list_contains($won_stages, lower(trim(o.stage))) then 'won'
                when list_contains($lost_stages, lower(trim(o.stage))) then 'lost'
                else 'open' end as status
    from opportunities o
    left join customers c on c.customer_id = o.customer_id
    where o.created_date between $start and $end
      and (len($owner) = 0 or list_contains($owner, o.owner))
      and (len($source) = 0 or list_contains($source, o.source))
      and (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
),
hist as materialized (
    -- opportunities with a stage history: the furthest step entered, and when they were won or lost
    select h.opportunity_id, max(l.pos) as max_pos,
           min(h.entered_at) filter (where list_contains($won_stages, lower(trim(h.stage)))
                                        or list_contains($lost_stages, lower(trim(h.stage)))) as closed_at
    from opportunity_stage_history h
    left join levels l on l.stage_key = lower(trim(h.stage))
    where h.opportunity_id in (select opportunity_id from opp)
    group by h.opportunity_id
),
dated as materialized (
    -- filled stage date columns (extra columns such as engage_date, mapped to stages in $date_columns/$date_stages)
    select u.opportunity_id, l.stage_key, l.pos, try_cast(u.val as timestamp) as entered_at
    from (
        unpivot (
            select opportunity_id, columns(c -> c = 'stage' or c not in ('opportunity_id', 'created_date',
                   'customer_id', 'amount', 'owner', 'source', 'product', 'close_date'))::varchar
            from opportunities
            where len($date_columns) > 0 and opportunity_id in (select opportunity_id from opp)
        ) on columns(* exclude (opportunity_id)) into name col value val
    ) u
    join levels l on l.stage_key = list_extract($date_stages::varchar[], list_position($date_columns::varchar[], u.col))
    where list_contains($date_columns, u.col) and trim(u.val) <> ''
),
reach as materialized (
    select o.*,
           case when h.opportunity_id is not null then 'history'
                when o.status = 'won' then 'won'
                when o.status = 'open' then 'open'
                when d.max_pos is not null then 'lost_dates'
                else 'lost_first' end as rule,
           -- the furthest step reached; every step before it counts as reached too
           case when o.status = 'won' then (select n from n_levels)
                when h.opportunity_id is not null then greatest(coalesce(h.max_pos, 1), coalesce(l.pos, 1))
                when o.status = 'open' then coalesce(l.pos, 1)
                else coalesce(d.max_pos, 1) end as reach,
           o.status = 'open' and l.pos is null as is_outside_order,
           coalesce(o.close_date, h.closed_at::date) as closed_on
    from opp o
    left join levels l on l.stage_key = o.stage_key
    left join hist h on h.opportunity_id = o.opportunity_id
    left join (select opportunity_id, max(pos) as max_pos from dated group by opportunity_id) d
        on d.opportunity_id = o.opportunity_id
)
-- END funnel_base
,
pipeline as (
    select owner,
           count(*) filter (where status = 'open') as n_open,
           coalesce(sum(amount) filter (where status = 'open'), 0) as amt_open_pipeline,
           count(*) filter (where status = 'won') as n_won,
           count(*) filter (where status = 'lost') as n_lost
    from reach
    where owner is not null
    group by owner
),
book as (
    select c.owner, count(*) as n_customers
    from customers c
    where c.owner is not null
      and (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
    group by c.owner
),
customer_revenue as (
    select c.owner, o.customer_id, sum(o.amount) as amt_revenue
    from orders o
    left join customers c on c.customer_id = o.customer_id
    where o.order_date between $start and $end
      and not list_contains($non_revenue_statuses, lower(trim(coalesce(o.status, ''))))
      and (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
    group by c.owner, o.customer_id
),
held as (
    select owner, count(*) as n_buying_customers, sum(amt_revenue) as amt_revenue
    from customer_revenue
    where owner is not null
    group by owner
),
total as (select sum(amt_revenue) as amt_total from customer_revenue)
select owner,
       coalesce(p.n_open, 0) as n_open,
       coalesce(p.amt_open_pipeline, 0) as amt_open_pipeline,
       coalesce(p.n_won, 0) as n_won,
       coalesce(p.n_lost, 0) as n_lost,
       p.n_won / nullif(p.n_won + p.n_lost, 0) as rate_win,
       coalesce(b.n_customers, 0) as n_customers,
       coalesce(h.n_buying_customers, 0) as n_buying_customers,
       coalesce(h.amt_revenue, 0) as amt_revenue,
       coalesce(h.amt_revenue, 0) / nullif(t.amt_total, 0) as rate_revenue_share,
       coalesce(coalesce(h.amt_revenue, 0) / nullif(t.amt_total, 0) >= $risk_share, false) as is_concentrated
from pipeline p
full join book b using (owner)
full join held h using (owner)
cross join total t
where len($owner) = 0 or list_contains($owner, owner)
order by amt_revenue desc, amt_open_pipeline desc, owner
