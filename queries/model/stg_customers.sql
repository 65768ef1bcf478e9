-- stg_customers: one row per customer as loaded (extra columns of the file kept)
-- grain: customer_id; source: customers
create or replace view stg_customers as
select *
from customers
