-- stg_customers: one row per customer as loaded (extra columns of the file kept)
-- grain: customer_id; source: customers, owner_attributes (a sales-team side file: the owner's manager,
--   office, ... as extra columns)
create or replace view stg_customers as
select c.*, w.* exclude (owner)
from customers c
left join owner_attributes w on w.owner = c.owner
