-- revenue_before(days, on_day, n_days): THE revenue a customer brought in the n_days days before on_day: what their days
-- (a list of mart_customer_revenue_days.days) add to revenue from on_day - n_days to the day before on_day, refunds lowering
-- it; NULL when they have no day in that window. The churn bucket's lost revenue (the 365 days before the lost day)
-- and the revenue of lost complainers (the days before their first complaint) read it.
create or replace macro revenue_before(days, on_day, n_days) as
list_sum([d.amt_revenue for d in days if d.order_date >= on_day - n_days and d.order_date < on_day])
