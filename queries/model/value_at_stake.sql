-- value_at_stake(as_of): each customer's revenue in the 365 days up to as_of, what a lapse puts at stake
-- (the follow-up work list and a departed owner's handover list rank by it)
create or replace macro value_at_stake(as_of) as table
select customer_id, sum(amt_revenue) as amt_at_stake
from stg_orders
where not is_void and order_date > as_of::date - 365 and order_date <= as_of::date
group by customer_id
