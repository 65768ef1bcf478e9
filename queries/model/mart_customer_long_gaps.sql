-- mart_customer_long_gaps: the order days that can begin a customer lifetime under any churn rule of at least 30 days
--   (N >= 30: a lifetime begins on the first order day or after a gap longer than max(N, k x the usual gap)), with the
--   customer's usual gap and last order day as of the newest order day; customer_spells reads it for such a rule when
--   the day looked at is the newest order day or later (from_gaps), instead of every order day of every customer joined
--   to their threshold (a quarter of mart_customer_days' rows on the demo, no join)
-- grain: customer_id, order_date (the first order day and each one after a gap of more than 30 days);
--   source: mart_customer_days, mart_customer_churn (customer_gaps at the newest order day)
--   gap_before: days since the previous order day (NULL on the first); last_order, usual_gap: mart_customer_churn's
--   (the 30 days are customer_spells' too: a rule with fewer days reads mart_customer_days)
create or replace table mart_customer_long_gaps as
select d.customer_id, d.order_date, d.gap_before, c.last_order, c.usual_gap
from mart_customer_days d
join mart_customer_churn c on c.customer_id = d.customer_id
where (d.gap_before is null or d.gap_before > 30) and in_build_scope(d.customer_id)
