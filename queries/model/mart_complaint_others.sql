-- mart_complaint_others: the complaints page's "others" at the default churn rule and period, no customer filter,
--   counted: the customers with an order in the pages' default period and no complaint in it, per row of what the
--   link to churn reads of them (queries/shared/complaints_others_kept.sql), so that its default view reads a few
--   thousand rows instead of counting every customer of the period on each view
-- grain: first_order_in_period, is_churned, lost_date (NULL unless lost), lost_after_first_order, ref_date; source:
--   mart_complaint_customers
--   n: the customers on the row
create or replace table mart_complaint_others as
select first_order_in_period, is_churned, case when is_churned then lost_date end as lost_date, lost_after_first_order,
       ref_date, count(*)::bigint as n
from mart_complaint_customers
where first_order_in_period is not null and not complained_in_period
group by all
