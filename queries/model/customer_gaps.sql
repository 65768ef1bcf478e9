-- customer_gaps(as_of): each customer's usual gap between order days as of a day, the input of the churn rule
-- One row per customer with an order day up to as_of:
--   last_order: their newest order day up to as_of
--   usual_gap: the median gap between their order days up to as_of (a customer with one order day gets
--              usual_gap_all)
--   usual_gap_all: everybody's median gap between order days up to as_of (the same on every row)
-- customer_spells reads it for a past day; mart_customer_churn keeps it as of the newest order day.
create or replace macro customer_gaps(as_of) as table
with days as (
    select customer_id, order_date, gap_before
    from mart_customer_days
    where order_date <= as_of::date
),
everybody as (
    select median(gap_before) filter (where gap_before > 0) as usual_gap from days
)
select customer_id, max(order_date) as last_order,
       coalesce(median(gap_before) filter (where gap_before > 0), (select usual_gap from everybody)) as usual_gap,
       (select usual_gap from everybody) as usual_gap_all
from days
group by customer_id
