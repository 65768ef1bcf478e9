-- complaints_churn: churn of complainers versus others, and of complainers by category and by resolution
--   band, with the revenue lost
-- params: $category_aliases VARCHAR[], $category_keys VARCHAR[], $sla_severities VARCHAR[],
--   $sla_hours DOUBLE[], $sla_default_hours DOUBLE, $sla_met_col VARCHAR, $sla_met_words VARCHAR[],
--   $sla_missed_words VARCHAR[], $category VARCHAR[], $severity VARCHAR[],
--   $complaint_channel VARCHAR[], $band_hours DOUBLE[], $region VARCHAR[], $segment VARCHAR[],
--   $owner VARCHAR[], $start DATE, $end DATE, $churn_multiplier DOUBLE, $churn_days INTEGER,
--   $revenue_days INTEGER, $follow_days INTEGER, $use_spells_mart BOOLEAN, $complaint_rule_mart BOOLEAN,
--   $complaint_period_mart BOOLEAN, $complaint_revenue_mart BOOLEAN (set by crmlens.model)
-- returns: kind ('all', 'category' or 'band'), grp ('complainers'/'others', a category, or a band number as
--   text),
-- n_customers, n_churned, rate_churn (lost by the newest order day: complainers and others followed for
--   different lengths of time), amt_revenue_lost (NULL for others; revenue (net of refunds) of churned
--     complainers in the $revenue_days days before their first complaint),
--   like with like (issue 14, item 7): n_followed (customers followed for the whole $follow_days days after their
--   origin: the first complaint, or the first order in the period for others), n_churned_followed (of those,
--   lost within $follow_days days of it: the first loss after the origin, even if they came back since, the
--   follow-up page's rule), rate_churn_followed, amt_revenue_lost_followed
-- include: complaints_scope
-- include: complaints_churn_base
,
revenue_before as (
    -- revenue as everywhere (mart_order_days.amt_revenue, the days customer_revenue sums: refunds lower it): kept
    -- per complaint in mart_complaints for its days ($complaint_revenue_mart), else summed here
    select customer_id, amt_revenue_before as amt_revenue
    from population
    where $complaint_revenue_mart and grp = 'complainers' and (is_churned or lost_after_origin is not null)
    union all
    select p.customer_id, sum(revenue_before(d.days, p.first_at::date, cast($revenue_days as integer))) as amt_revenue
    from population p join mart_customer_revenue_days d on d.customer_id = p.customer_id
    where not $complaint_revenue_mart and p.grp = 'complainers' and (p.is_churned or p.lost_after_origin is not null)
    group by p.customer_id
),
rows as (
    -- n: the customers a row stands for (one, but the others' rows of complaints_churn_base_kept count several)
    select p.grp, p.category, p.band, p.is_churned, p.n, coalesce(r.amt_revenue, 0) as amt_revenue,
           p.origin + cast($follow_days as integer) <= p.ref_date as is_followed,
           -- lost within the follow-up: the first loss after the start falls in it (first_loss_after), even if the
           -- customer came back since: the follow-up page's rule
           p.origin + cast($follow_days as integer) <= p.ref_date
               and coalesce(p.lost_after_origin <= p.origin + cast($follow_days as integer), false) as is_churned_followed
    from population p left join revenue_before r on r.customer_id = p.customer_id
)
select case when grouping(category) = 0 then 'category' when grouping(band) = 0 then 'band' else 'all' end as kind,
       case when grouping(category) = 0 then category when grouping(band) = 0 then band::varchar else rows.grp end as grp,
       sum(n)::bigint as n_customers, coalesce(sum(n) filter (where is_churned), 0)::bigint as n_churned,
       sum(n * is_churned::int) / sum(n) filter (where is_churned is not null) as rate_churn,
       case when rows.grp = 'complainers' then coalesce(sum(amt_revenue) filter (where is_churned), 0) end as amt_revenue_lost,
       coalesce(sum(n) filter (where is_followed), 0)::bigint as n_followed,
       coalesce(sum(n) filter (where is_churned_followed), 0)::bigint as n_churned_followed,
       coalesce(sum(n) filter (where is_churned_followed), 0) / nullif(sum(n) filter (where is_followed), 0)
           as rate_churn_followed,
       case when rows.grp = 'complainers' then coalesce(sum(amt_revenue) filter (where is_churned_followed), 0) end
           as amt_revenue_lost_followed
from rows
-- one pass: both groups, and the complainers by category and by band (the others' rows of those sets dropped)
group by grouping sets ((grp), (grp, category), (grp, band))
having (grouping(category) = 1 and grouping(band) = 1) or rows.grp = 'complainers'
order by kind, n_customers desc, grp
