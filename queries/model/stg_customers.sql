-- stg_customers: one row per customer as loaded (extra columns of the file kept)
-- grain: customer_id; source: customers, owners (the sales-team list: the owner's manager,
--   office, ... as extra columns)
create or replace view stg_customers as
select c.*, w.* exclude (owner, left_on)
from customers c
left join owners w on w.owner = c.owner
