-- overview_kpis: headline figures for a period and for the previous period of equal length
-- params: $start DATE, $end DATE (inclusive)
-- returns: one row per period ('current', 'previous'): period, period_start, period_end,
--   n_customers (known by period end), n_active_customers (bought in period),
--   n_new_customers (first purchase in period), amt_revenue, n_orders, amt_avg_order,
--   n_open_opportunities (open at period end), n_complaints (created in period),
--   amt_revenue_no_customer, n_orders_no_customer: the part of amt_revenue and n_orders on orders without a
--   customer id (guest orders: revenue and orders, never a customer)
with periods as (
    select 'current' as period, $start::date as period_start, $end::date as period_end
    union all
    select 'previous', $start::date - ($end::date - $start::date + 1)::integer, $start::date - 1
),
period_months as (
    -- each month a period touches; whole: the period covers all its days
    select period, period_start, period_end, month::date as month,
           month >= period_start and last_day(month) <= period_end as is_whole
    from periods,
         unnest(generate_series(date_trunc('month', period_start), date_trunc('month', period_end), interval 1 month))
             as m(month)
),
active_customers as (
    -- customers with an order in the period: whole months from mart_customer_months, cut months from their days
    select pm.period, m.customer_id
    from period_months pm join mart_customer_months m using (month)
    where pm.is_whole and m.n_orders > 0  -- (a month with a refund only makes nobody active)
    union all
    select pm.period, d.customer_id
    from period_months pm join mart_customer_days d
        on date_trunc('month', d.order_date) = pm.month and d.order_date between pm.period_start and pm.period_end
    where not pm.is_whole
),
-- one row per customer: when we first knew them (NULL = listed without a signup date,
-- known all along) and their first purchase
customer_dates as (
    select customer_id,
           if(is_listed and signup_date is null, null, least(signup_date, first_order_on)) as known_since,
           first_order_on as first_ordered_at
    from mart_customers
    where is_listed or first_order_on is not null
),
order_figures as (
    -- revenue (refunds subtract, cancelled lines count for nothing) and orders per day (mart_order_dates)
    select p.period,
           coalesce(sum(d.amt_revenue), 0) as amt_revenue,
           coalesce(sum(d.n_orders), 0)::bigint as n_orders,
           coalesce(sum(d.amt_revenue_no_customer), 0) as amt_revenue_no_customer,
           coalesce(sum(d.n_orders_no_customer), 0)::bigint as n_orders_no_customer
    from periods p
    left join mart_order_dates d on d.order_date between p.period_start and p.period_end
    group by p.period
),
active_figures as (
    select p.period, count(distinct a.customer_id) as n_active_customers
    from periods p left join active_customers a using (period)
    group by p.period
),
customer_figures as (
    select p.period,
           count(*) filter (where c.known_since is null or c.known_since <= p.period_end) as n_customers,
           count(*) filter (where c.first_ordered_at between p.period_start and p.period_end) as n_new_customers
    from periods p
    cross join customer_dates c
    group by p.period
),
opportunity_figures as (
    select p.period, count(o.opportunity_id) as n_open_opportunities
    from periods p
    left join stg_opportunities o
        on coalesce(o.effective_created <= p.period_end, true)  -- dated by created, else its earliest date
        and not coalesce(o.close_date <= p.period_end, o.status <> 'open')
    group by p.period
),
complaint_figures as (
    select p.period, count(c.created_at) as n_complaints
    from periods p
    left join stg_complaints c on c.created_at::date between p.period_start and p.period_end
    group by p.period
)
select p.period, p.period_start, p.period_end,
       coalesce(cf.n_customers, 0) as n_customers,
       af.n_active_customers,
       coalesce(cf.n_new_customers, 0) as n_new_customers,
       o.amt_revenue,
       o.n_orders,
       o.amt_revenue / nullif(o.n_orders, 0) as amt_avg_order,
       o.amt_revenue_no_customer,
       o.n_orders_no_customer,
       op.n_open_opportunities,
       c.n_complaints
from periods p
join order_figures o using (period)
join active_figures af using (period)
left join customer_figures cf using (period)
join opportunity_figures op using (period)
join complaint_figures c using (period)
order by p.period_start desc
