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
    -- customers with an order in the period, each counted once without a distinct: on the first of their order days
    -- in the period (mart_customer_days: the previous order day, order_date - gap_before, is before the period);
    -- one pass over the days for both periods
    select p.period, if(p.period = 'current', a.n_current, a.n_previous) as n_active_customers
    from periods p
    cross join (
        select count(*) filter (where order_date >= $start::date
                                  and (gap_before is null or gap_before > order_date - $start::date)) as n_current,
               count(*) filter (where order_date < $start::date
                                  and (gap_before is null
                                       or gap_before > order_date - ($start::date - ($end::date - $start::date + 1)::integer)))
                   as n_previous
        from mart_customer_days
        where order_date between $start::date - ($end::date - $start::date + 1)::integer and $end::date
    ) a
),
customer_figures as (
    select p.period, if(p.period = 'current', c.n_customers_current, c.n_customers_previous) as n_customers,
           if(p.period = 'current', c.n_new_current, c.n_new_previous) as n_new_customers
    from periods p
    cross join (
        select count(*) filter (where known_since is null or known_since <= $end::date) as n_customers_current,
               count(*) filter (where known_since is null or known_since <= $start::date - 1) as n_customers_previous,
               count(*) filter (where first_ordered_at between $start::date and $end::date) as n_new_current,
               count(*) filter (where first_ordered_at between $start::date - ($end::date - $start::date + 1)::integer
                                                            and $start::date - 1) as n_new_previous
        from customer_dates
    ) c
),
opportunity_figures as (
    -- open at each period's end: one pass over the opportunities for both periods
    select p.period,
           if(p.period = 'current', o.n_current, o.n_previous) as n_open_opportunities
    from periods p
    cross join (
        select count(opportunity_id) filter (where coalesce(effective_created <= $end::date, true)  -- dated by created, else its earliest date
                                  and not coalesce(close_date <= $end::date, status <> 'open')) as n_current,
               count(opportunity_id) filter (where coalesce(effective_created <= $start::date - 1, true)
                                  and not coalesce(close_date <= $start::date - 1, status <> 'open')) as n_previous
        from stg_opportunities
    ) o
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
