-- churn_survival: customers' first lifetimes for Kaplan-Meier curves: how long (days), lost or still active,
--   by group
-- params: $start DATE, $end DATE (inclusive),
--   $group VARCHAR ('none', 'segment', 'channel', 'region', 'owner', 'contract', 'complaint'),
--   $definition VARCHAR ('orders' or 'explicit'), $churn_days INTEGER, $churn_multiplier DOUBLE,
--   $segment VARCHAR[], $region VARCHAR[], $channel VARCHAR[], $owner VARCHAR[],
--   $landmark_days INTEGER, $use_spells_mart BOOLEAN, $use_churn_mart BOOLEAN (set by crmlens.model)
-- complaint: a landmark analysis, so that staying longer does not make a customer a complainer (immortal-time
--   bias): the clock starts $landmark_days days after the first order (the landmark); only customers still
--   active then, with the landmark on or before the as-of day, count; 'complained' = a complaint on or before
--   the landmark (issue 14, item 6)
-- returns: grp (group value; 'all' when $group = 'none'; complaint: 'complained' / 'no complaint'), n_days
-- (from first order or start to loss, or to the as-of day when still active), is_lost, n_customers (how many
--   share these three values: a compact frame)
with
-- include: churn_spells
first_lifetimes as (
    select s.customer_id, s.spell_start, s.lost_date,
           coalesce(round(s.tenure_months * 30.4375),
                    coalesce(s.lost_date, (select as_of_date from as_of)) - s.spell_start)::integer as n_days,
           s.is_lost
    from spells s
    where s.spell_no = 1 and coalesce(s.spell_start <= (select as_of_date from as_of), true)
      and (s.tenure_months is not null or s.spell_start is not null)
),
landmarked as (
    select f.customer_id, f.spell_start + cast($landmark_days as integer) as landmark_date, f.is_lost,
           (coalesce(f.lost_date, (select as_of_date from as_of)) - (f.spell_start + cast($landmark_days as integer)))::integer
               as n_days
    from first_lifetimes f
    where $group = 'complaint' and f.spell_start is not null
      and f.spell_start + cast($landmark_days as integer) <= (select as_of_date from as_of)
      and (not f.is_lost or f.lost_date > f.spell_start + cast($landmark_days as integer))
),
complained as (
    -- a complaint on or before the customer's landmark
    select distinct l.customer_id from landmarked l
    join stg_complaints k on k.customer_id = l.customer_id and k.created_at::date <= l.landmark_date
)
select case $group
           when 'none' then 'all'
           when 'segment' then c.segment
           when 'channel' then c.channel
           when 'region' then c.region
           when 'owner' then c.owner
           when 'contract' then c.contract_type
       end as grp,
       f.n_days, f.is_lost, count(*) as n_customers
from first_lifetimes f
left join stg_customers c using (customer_id)
where f.n_days >= 0 and $group <> 'complaint'
group by all
union all
select if(k.customer_id is null, 'no complaint', 'complained') as grp, l.n_days, l.is_lost, count(*) as n_customers
from landmarked l
left join complained k using (customer_id)
group by all
order by grp, n_days, is_lost
