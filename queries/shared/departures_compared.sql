-- shared piece departures_compared: what a departure is compared with, after departures_found
-- Output: CTEs spells (customer_id, spell_start, lost_date: every lifetime under the churn rule as of
--   data_end.as_of), stayers (customer_id: customers of owners who stayed, none of them held by a departed owner)
spells as materialized (
    select customer_id, spell_start, lost_date
    from lifetimes((select as_of from data_end), $churn_days, $churn_multiplier, $use_spells_mart)
),
stayers as (
    select c.customer_id
    from stg_customers c
    where c.owner is not null and trim(c.owner) <> '' and trim(c.owner) not in (select owner from departed)
      and c.customer_id not in (select customer_id from held)
),
