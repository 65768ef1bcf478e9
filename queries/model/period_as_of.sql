-- period_as_of(end_date): the day figures about customers are "as of" for a period ending on end_date:
-- the period end, or the newest order day before it when the data stops earlier
create or replace macro period_as_of(end_date) as
least(end_date::date, coalesce((select max(order_date) from mart_customer_days), end_date::date))
