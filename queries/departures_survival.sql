-- departures_survival: Kaplan-Meier input from a departure's day: the departed owner's held customers active
--   that day, and the customers of owners who stayed active that day; days until the churn rule counts them
--   lost, or until the day customer figures are as of
--   (period_as_of of the data end: censored)
-- params: $end DATE, $inactive_days INTEGER, $departed_owner VARCHAR, $churn_days INTEGER,
--   $churn_multiplier DOUBLE, $use_spells_mart BOOLEAN (set by crmlens.model)
-- returns: grp ('held', 'stayed'), t (days from left_on), n_event (lost that day), n_censored
with
-- include: departures_found
-- include: departures_compared
the_one as (
    select owner, left_on from departed where owner = $departed_owner
),
active as (
    select 'held' as grp, s.customer_id, s.lost_date, o.left_on
    from the_one o
    join held h using (owner)
    join spells s on s.customer_id = h.customer_id and s.spell_start <= o.left_on
     and (s.lost_date is null or s.lost_date > o.left_on)
    union all
    select 'stayed', s.customer_id, s.lost_date, o.left_on
    from the_one o
    join spells s on s.spell_start <= o.left_on and (s.lost_date is null or s.lost_date > o.left_on)
    semi join stayers t on t.customer_id = s.customer_id
)
select grp, coalesce(lost_date, (select as_of from data_end)) - left_on as t,
       count(*) filter (where lost_date is not null) as n_event,
       count(*) filter (where lost_date is null) as n_censored
from active
group by all
order by grp, t
