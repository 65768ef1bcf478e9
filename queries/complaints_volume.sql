-- complaints_volume: complaints per bucket as counts and rates, resolved per bucket, and the open backlog at
--   each bucket's end
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $grain VARCHAR ('day', 'week' or 'month')
-- returns: bucket_start, n_complaints, n_resolved, n_active_customers, n_orders, rate_per_100_customers,
--   rate_per_1000_orders, n_open_end, first_day, last_day (the days of the bucket the period and the data's
--   span cover), is_complete (covered whole: not cut by the period's dates nor by the first or last day of
--   any activity in the data: an order, a complaint opened or resolved)
-- include: complaints_scope
,
buckets as (
    select bucket_start,
           coalesce(lead(bucket_start) over (order by bucket_start), $end::date + 1) as bucket_next,
           (bucket_start + case $grain when 'month' then interval 1 month when 'week' then interval 7 day
                                       else interval 1 day end)::date - 1 as bucket_end
    from (select distinct date_trunc($grain, d::date)::date as bucket_start
          from range($start::date, $end::date + 1, interval 1 day) as r(d))
),
complaints_span as (
    -- the data's span: the first and last day of any activity (orders, complaints opened or resolved), whatever
    --   the filters keep; a quiet week without complaints inside it is not a gap in the data
    select min(d) as first_complaint, max(d) as last_complaint
    from (select order_date as d from mart_order_dates
          union all select created_at::date from mart_complaints
          union all select resolved_at::date from mart_complaints)
),
covered as (
    select bucket_start, bucket_end,
           greatest(bucket_start, $start::date, coalesce(first_complaint, bucket_start)) as first_day,
           least(bucket_end, $end::date, coalesce(last_complaint, bucket_end)) as last_day
    from buckets cross join complaints_span
),
created as (
    select date_trunc($grain, created_at)::date as bucket_start, count(*) as n_complaints from pk group by 1
),
resolved as (
    select date_trunc($grain, resolved_at)::date as bucket_start, count(*) as n_resolved
    from fk where matches and resolved_at >= $start and resolved_at < $end + interval 1 day group by 1
),
order_days as (
    -- the order days in the period; by month only those of the months the period cuts (before the first day of the
    --   first month it covers whole, after the last day of the last one: two ranges the scan filters by)
    select d.customer_id, d.order_date, d.n_orders from mart_customer_days d
    where $grain <> 'month' and d.order_date between $start and $end
    union all
    select d.customer_id, d.order_date, d.n_orders from mart_customer_days d
    where $grain = 'month' and d.order_date >= $start
      and d.order_date < case when day($start::date) = 1 then $start::date
                          else (date_trunc('month', $start::date) + interval 1 month)::date end
    union all
    select d.customer_id, d.order_date, d.n_orders from mart_customer_days d
    where $grain = 'month' and d.order_date <= $end
      and d.order_date > case when $end::date = last_day($end::date) then $end::date
                          else (date_trunc('month', $end::date) - interval 1 day)::date end
),
done_orders as (
    -- completed orders of the customers the customer filters keep (complaints_orders_in_scope's rule)
    select o.customer_id, o.order_date, o.n_orders from order_days o
    where len($region) + len($segment) + len($owner) = 0
    union all
    select o.customer_id, o.order_date, o.n_orders
    from order_days o left join mart_customers cu on cu.customer_id = o.customer_id
    where len($region) + len($segment) + len($owner) > 0
      and (len($region) = 0 or list_contains($region, cu.region))
      and (len($segment) = 0 or list_contains($segment, cu.segment))
      and (len($owner) = 0 or list_contains($owner, cu.owner))
),
month_customers as (
    -- by month: each customer's orders in the months the period covers whole (mart_customer_months: one row per
    --   customer and month, its first day), the customer filters applied (mart_complaint_customers keeps the customer
    --   list's region, segment and owner)
    select m.month, m.customer_id, m.n_orders
    from mart_customer_months m
    where $grain = 'month' and m.n_orders > 0 and len($region) + len($segment) + len($owner) = 0
      and m.month >= case when day($start::date) = 1 then $start::date
                          else (date_trunc('month', $start::date) + interval 1 month)::date end
      and m.month <= case when $end::date = last_day($end::date) then $end::date
                          else (date_trunc('month', $end::date) - interval 1 day)::date end
    union all
    select m.month, m.customer_id, m.n_orders
    from mart_customer_months m
    join mart_complaint_customers cu on cu.customer_id = m.customer_id
    where $grain = 'month' and m.n_orders > 0 and len($region) + len($segment) + len($owner) > 0
      and m.month >= case when day($start::date) = 1 then $start::date
                          else (date_trunc('month', $start::date) + interval 1 month)::date end
      and m.month <= case when $end::date = last_day($end::date) then $end::date
                          else (date_trunc('month', $end::date) - interval 1 day)::date end
      and (len($region) = 0 or list_contains($region, cu.region))
      and (len($segment) = 0 or list_contains($segment, cu.segment))
      and (len($owner) = 0 or list_contains($owner, cu.owner))
),
activity as (
    select date_trunc($grain, order_date)::date as bucket_start,
           count(distinct customer_id) as n_active_customers, sum(n_orders) as n_orders
    from done_orders group by 1
    union all
    select month, count(*), sum(n_orders) from month_customers group by 1
),
backlog_events as (
    -- +1 when a complaint opens, -1 when it is resolved; closed without a time: never counted open
    select created_at as event_at, 1 as delta from fk where matches and (resolved_at is not null or is_open)
    union all
    select resolved_at, -1 from fk where matches and resolved_at is not null
),
backlog_start as (
    select coalesce(sum(delta), 0) as n from backlog_events where event_at < $start
),
backlog_change as (
    select date_trunc($grain, event_at)::date as bucket_start, sum(delta) as delta
    from backlog_events where event_at >= $start and event_at < $end + interval 1 day group by 1
)
select b.bucket_start,
       coalesce(c.n_complaints, 0) as n_complaints,
       coalesce(r.n_resolved, 0) as n_resolved,
       coalesce(a.n_active_customers, 0) as n_active_customers,
       coalesce(a.n_orders, 0) as n_orders,
       100.0 * coalesce(c.n_complaints, 0) / nullif(a.n_active_customers, 0) as rate_per_100_customers,
       1000.0 * coalesce(c.n_complaints, 0) / nullif(a.n_orders, 0) as rate_per_1000_orders,
       (select n from backlog_start) + sum(coalesce(g.delta, 0)) over (order by b.bucket_start) as n_open_end,
       v.first_day, v.last_day, v.first_day = v.bucket_start and v.last_day = v.bucket_end as is_complete
from buckets b
join covered v using (bucket_start)
left join created c using (bucket_start)
left join resolved r using (bucket_start)
left join activity a using (bucket_start)
left join backlog_change g using (bucket_start)
order by b.bucket_start
