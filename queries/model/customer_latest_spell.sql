-- customer_latest_spell(as_of, churn_days, churn_multiplier): each customer's current lifetime as of as_of,
-- one row per customer who ordered by then: is_lost says whether they count as lost on that day
create or replace macro customer_latest_spell(as_of, churn_days, churn_multiplier) as table
select *
from customer_spells(as_of, churn_days, churn_multiplier)
qualify row_number() over (partition by customer_id order by spell_no desc) = 1
