-- loyalty_climb: the ladder as a funnel over time: of the customers who stood on each rung, the share that
--   climbed higher within 12 months and how long it took; rungs read at every month end (the loyalty
--   page's rung rules, loyalty_rung_rules), over at most the 5 years to $end
-- params: $start DATE, $end DATE, $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $use_partner_flag BOOLEAN, $nps_advocate_min DOUBLE, $min_referrals INTEGER, $min_orders_client INTEGER,
--   $satisfaction_min DOUBLE, $nps_supporter_min DOUBLE, $max_unresolved INTEGER, $survey_days INTEGER (surveys older than this do not count),
--   $margin_rate DOUBLE (0-1, typed; NULL = from the data), $margin_fallback DOUBLE (orders without a cost),
--   $churn_days INTEGER,
--   $churn_multiplier DOUBLE, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: from_rung, to_rung (the next rung up; climbing past it counts), from_rank, n_entered (first stood on
--   from_rung, not lapsed, at a month end at least 365 days before the data end), n_climbed (of those, stood
--   higher within 365 days), rate_12m, median_days (month end to month end, of those who climbed),
--   n_too_recent (entered later: their 12 months are not over)
with first_day as (
    select greatest(coalesce((select min(order_date) from stg_orders), $end::date), $end::date - 1826) as d
),
dates(as_of) as (
    select distinct least((b + interval 1 month - interval 1 day)::date, $end::date)
    from unnest(generate_series(date_trunc('month', (select d from first_day)), $end::date::timestamp, interval 1 month)) as t(b)
),
-- include: loyalty_rung_inputs
-- include: loyalty_rung_rules
data_end as (
    select period_as_of($end) as d
),
standing as (
    select customer_id, as_of, rung, rung_rank from rung_states where not is_lapsed
),
firsts as (
    select customer_id, rung, rung_rank, min(as_of) as first_on
    from standing
    group by all
),
climbs as (
    select f.customer_id, f.rung, f.rung_rank, f.first_on, min(s.as_of) as climbed_on
    from firsts f
    left join standing s on s.customer_id = f.customer_id and s.as_of > f.first_on and s.rung_rank > f.rung_rank
    group by all
),
next_rung as (
    select rung as from_rung, rung_rank as from_rank, lead(rung) over (order by rung_rank) as to_rung from rung_order
)
select n.from_rung, n.to_rung, n.from_rank,
       count(c.customer_id) filter (where c.first_on + 365 <= (select d from data_end)) as n_entered,
       count(c.customer_id) filter (where c.first_on + 365 <= (select d from data_end)
                                      and c.climbed_on - c.first_on <= 365) as n_climbed,
       n_climbed / nullif(n_entered, 0) as rate_12m,
       median(c.climbed_on - c.first_on) filter (where c.first_on + 365 <= (select d from data_end)
                                                   and c.climbed_on - c.first_on <= 365) as median_days,
       count(c.customer_id) filter (where c.first_on + 365 > (select d from data_end)) as n_too_recent
from next_rung n
left join climbs c on c.rung_rank = n.from_rank
where n.to_rung is not null
group by all
order by n.from_rank
