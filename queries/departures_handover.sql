-- departures_handover: a departed owner's customers still active at the data end, to hand over: value at
--   stake and risk, highest value first
-- params: $end DATE, $inactive_days INTEGER, $departed_owner VARCHAR, $churn_days INTEGER,
--   $churn_multiplier DOUBLE, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: customer_id, name, segment, region, owner_now (as listed now), last_order, days_since (from the last
--   order to the as-of day, period_as_of of the data end), lost_on (the day the churn rule counts them lost
--   without another order), score (days_since / their days to lost, 0-100), amt_at_stake (revenue in the 365 days to the data end), last_followup_date
with
-- include: departures_found
spells as materialized (
    select customer_id, last_order, n_days, is_lost
    from lifetimes((select as_of from data_end), $churn_days, $churn_multiplier, $use_spells_mart)
    qualify row_number() over (partition by customer_id order by spell_no desc) = 1
),
remaining as (
    select s.*
    from held h
    join spells s on s.customer_id = h.customer_id
    where h.owner = $departed_owner and not s.is_lost
)
select r.customer_id, c.name, c.segment, c.region, c.owner as owner_now, r.last_order,
       (select as_of from data_end) - r.last_order as days_since, r.last_order + r.n_days as lost_on,
       round(100.0 * ((select as_of from data_end) - r.last_order) / r.n_days) as score,
       coalesce(v.amt_at_stake, 0) as amt_at_stake, t.last_followup_date
from remaining r
left join stg_customers c using (customer_id)
left join value_at_stake((select d from data_end)) v using (customer_id)
left join last_followup((select d from data_end)) t using (customer_id)
order by amt_at_stake desc, score desc, r.customer_id
