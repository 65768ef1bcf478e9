-- revenue_year_before(days, lost_date): THE revenue a lost customer took away: what their days (a list of
-- mart_customer_revenue_days.days) add to revenue from lost_date - 365 to the day before lost_date, refunds lowering it
-- (the churn bucket's lost revenue, kept for the default rule in mart_spell_revenue, worked out live for another rule);
-- NULL when they have no day in that window
create or replace macro revenue_year_before(days, lost_date) as
list_sum([d.amt_revenue for d in days if d.order_date >= lost_date - 365 and d.order_date < lost_date])
