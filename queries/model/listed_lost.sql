-- listed_lost(churned, churn_date, as_of): lost by `as_of` by what the customer list says: a churn / contract-end
-- date decides (on or before as_of), else the churned flag; NULL when the list says neither (the rule from orders
-- decides then). The churn page's explicit churn and the complaints page's link to churn both read it, so a customer
-- whose contract ends after the day looked at is not lost yet on either page.
create or replace macro listed_lost(churned, churn_date, as_of) as
case when churn_date is not null then churn_date <= as_of else churned end
