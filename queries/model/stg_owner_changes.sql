-- stg_owner_changes: what each load of the customer list replaced: a customer's owner before the load and
--   after it (NULL after: the customer is no longer listed)
-- grain: load, customer whose owner changed; source: owner_changes (written by crmlens.ingest at each load
--   of customers)
create table if not exists owner_changes (
    load_id bigint, changed_on date, customer_id varchar, owner_before varchar, owner_after varchar
);
create or replace view stg_owner_changes as
select load_id, changed_on, customer_id, owner_before, owner_after
from owner_changes
