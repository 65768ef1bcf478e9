-- listed_lost_date(churned, churn_date, as_of, rule_lost_date, last_order): the day a customer counts as lost by
-- `as_of`, with listed_lost's rule: the customer list's churn date when it is on or before as_of; the order rule's
-- day (customer_spells' lost_date: when the time without an order ran out) when the list says nothing; else (a
-- churned flag, or a churn date after as_of) the last order day. The complaints page's link to churn reads it, both
-- where mart_complaint_customers keeps it and where queries/shared/complaints_churn_state.sql works it out.
create or replace macro listed_lost_date(churned, churn_date, as_of, rule_lost_date, last_order) as
case when churn_date is not null and churn_date <= as_of then churn_date
     when churn_date is null and churned is null then rule_lost_date
     else last_order end
