-- funnel_owner_risk: per owner: open pipeline, win rate, the customers they hold and their share of revenue
-- params: $start DATE, $end DATE, $owner VARCHAR[], $source VARCHAR[], $segment VARCHAR[],
--   $region VARCHAR[], $stages VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[],
--   $date_columns VARCHAR[], $date_stages VARCHAR[], $risk_share DOUBLE, $include_undated BOOLEAN, $use_funnel_mart BOOLEAN (set by crmlens.model)
-- returns: one row per owner: n_open, amt_open_pipeline, n_won, n_lost, rate_win, n_customers (their book),
--   n_buying_customers, amt_revenue (their customers' revenue in the period, net of refunds), rate_revenue_share,
--   is_concentrated
-- include: funnel_base
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
    from stg_customers c
    where c.owner is not null
      and (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
    group by c.owner
),
customer_revenue as (
    -- revenue as everywhere (customer_revenue: refunds lower it); the guests' lines (no customer id) count in the
    -- total, unless a segment or region is chosen (a guest has neither)
    select c.owner, r.customer_id, r.amt_revenue, r.n_orders
    from customer_revenue($start, $end) r
    left join stg_customers c on c.customer_id = r.customer_id
    where (len($segment) = 0 or list_contains($segment, c.segment))
      and (len($region) = 0 or list_contains($region, c.region))
    union all
    select null, null, sum(amt_revenue_no_customer), sum(n_orders_no_customer)
    from mart_order_dates
    where order_date between $start and $end and len($segment) + len($region) = 0
),
held as (
    select owner, count(*) filter (where n_orders > 0) as n_buying_customers, sum(amt_revenue) as amt_revenue
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
