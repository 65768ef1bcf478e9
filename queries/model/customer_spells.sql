-- customer_spells(as_of, churn_days, churn_multiplier): the one definition of "lost" from orders.
-- One row per customer lifetime (spell) up to as_of: spell_no 1 starts at the first order, a new spell
-- starts at an order after a gap longer than the customer's n_days.
--   usual_gap: the median gap between the customer's order days up to as_of (a customer with one order
--              day gets everybody's median gap)
--   n_days: max(churn_days, floor(churn_multiplier x usual_gap)): the days without an order after
--           which the customer counts as lost
--   is_lost / lost_date: lost once last_order + n_days <= as_of, on that day
create or replace macro customer_spells(as_of, churn_days, churn_multiplier) as table
with days as (
    select customer_id, order_date, gap_before
    from mart_customer_days
    where order_date <= as_of::date
),
everybody as (
    select median(gap_before) filter (where gap_before > 0) as usual_gap from days
),
thresholds as (
    select customer_id, last_order, usual_gap,
           greatest(churn_days, floor(churn_multiplier * coalesce(usual_gap, 0)))::integer as n_days
    from (
        select customer_id, max(order_date) as last_order,
               coalesce(median(gap_before) filter (where gap_before > 0), (select usual_gap from everybody)) as usual_gap
        from days
        group by customer_id
    )
),
spell_starts as (
    select d.customer_id, d.order_date, d.gap_before, t.last_order, t.usual_gap, t.n_days
    from days d join thresholds t using (customer_id)
    where d.gap_before is null or d.gap_before > t.n_days
),
spells as (
    select customer_id, row_number() over w as spell_no, order_date as spell_start, usual_gap, n_days,
           coalesce(lead(order_date - gap_before::integer) over w, last_order) as last_order
    from spell_starts
    window w as (partition by customer_id order by order_date)
)
select customer_id, spell_no, spell_start, last_order, usual_gap, n_days,
       last_order + n_days <= as_of::date as is_lost,
       if(last_order + n_days <= as_of::date, last_order + n_days, null) as lost_date
from spells
