-- churn_survival: customers' first lifetimes for Kaplan-Meier curves: how long (days), lost or still active,
--   by group
-- params: $start DATE, $end DATE (inclusive),
--   $group VARCHAR ('none', 'segment', 'channel', 'region', 'owner', 'contract', 'complaint'),
--   $definition VARCHAR ('orders' or 'explicit'), $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: grp (group value; 'all' when $group = 'none'; complaint: 'complained' / 'no complaint'), n_days
-- (from first order or start to loss, or to the as-of day when still active), is_lost, n_customers (how many
--   share these three values: a compact frame)
with
-- include: churn_spells
first_lifetimes as (
    select s.customer_id,
           coalesce(round(s.tenure_months * 30.4375),
                    coalesce(s.lost_date, (select as_of_date from as_of)) - s.spell_start)::integer as n_days,
           s.is_lost
    from spells s
    where s.spell_no = 1 and coalesce(s.spell_start <= (select as_of_date from as_of), true)
      and (s.tenure_months is not null or s.spell_start is not null)
),
complained as (
    select distinct customer_id from stg_complaints
    where created_at::date <= (select as_of_date from as_of) and customer_id is not null
)
select case $group
           when 'none' then 'all'
           when 'segment' then c.segment
           when 'channel' then c.channel
           when 'region' then c.region
           when 'owner' then c.owner
           when 'contract' then c.contract_type
           when 'complaint' then if(k.customer_id is null, 'no complaint', 'complained')
       end as grp,
       f.n_days, f.is_lost, count(*) as n_customers
from first_lifetimes f
left join stg_customers c using (customer_id)
left join complained k using (customer_id)
where f.n_days >= 0
group by all
order by grp, n_days, is_lost
