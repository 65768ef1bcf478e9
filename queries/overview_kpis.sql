-- overview_kpis: headline figures for a period and for the previous period of equal length
-- params: $start DATE, $end DATE (inclusive), $non_revenue_statuses VARCHAR[], $won_stages VARCHAR[], $lost_stages VARCHAR[]
-- returns: one row per period ('current', 'previous'): period, period_start, period_end,
--   n_customers (known by period end), n_active_customers (bought in period),
--   n_new_customers (first purchase in period), amt_revenue, n_orders, amt_avg_order,
--   n_open_opportunities (open at period end), n_complaints (created in period)
with periods as (
    select 'current' as period, $start::date as period_start, $end::date as period_end
    union all
    select 'previous', $start::date - ($end::date - $start::date + 1)::integer, $start::date - 1
),
revenue_orders as (
    select customer_id, order_date, amount
    from orders
    where not list_contains($non_revenue_statuses, lower(trim(coalesce(status, ''))))
),
first_purchase as (
    select customer_id, min(order_date) as first_ordered_at from revenue_orders group by 1
),
known_customers as (
    -- A listed customer without a signup date has been known all along (NULL).
    select customer_id, if(bool_or(known_since is null), null, min(known_since)) as known_since
    from (
        select customer_id, signup_date as known_since from customers
        union all
        select customer_id, first_ordered_at from first_purchase
    )
    group by 1
),
order_figures as (
    select p.period,
           count(distinct o.customer_id) as n_active_customers,
           coalesce(sum(o.amount), 0) as amt_revenue,
           count(o.customer_id) as n_orders
    from periods p
    left join revenue_orders o on o.order_date between p.period_start and p.period_end
    group by 1
),
customer_figures as (
    select p.period,
           count(distinct c.customer_id) filter (where c.known_since is null or c.known_since <= p.period_end) as n_customers,
           count(distinct f.customer_id) as n_new_customers
    from periods p
    cross join known_customers c
    left join first_purchase f
        on f.customer_id = c.customer_id and f.first_ordered_at between p.period_start and p.period_end
    group by 1
),
opportunity_figures as (
    select p.period, count(o.opportunity_id) as n_open_opportunities
    from periods p
    left join opportunities o
        on coalesce(o.created_date <= p.period_end, true)
        and not coalesce(
            o.close_date <= p.period_end,
            list_contains($won_stages, lower(trim(o.stage))) or list_contains($lost_stages, lower(trim(o.stage)))
        )
    group by 1
),
complaint_figures as (
    select p.period, count(c.created_at) as n_complaints
    from periods p
    left join complaints c on c.created_at::date between p.period_start and p.period_end
    group by 1
)
select p.period, p.period_start, p.period_end,
       coalesce(cf.n_customers, 0) as n_customers,
       o.n_active_customers,
       coalesce(cf.n_new_customers, 0) as n_new_customers,
       o.amt_revenue,
       o.n_orders,
       o.amt_revenue / nullif(o.n_orders, 0) as amt_avg_order,
       op.n_open_opportunities,
       c.n_complaints
from periods p
join order_figures o using (period)
left join customer_figures cf using (period)
join opportunity_figures op using (period)
join complaint_figures c using (period)
order by p.period_start desc
