-- stg_owners: one row per salesperson of the team list as loaded (branch, the day they left)
-- grain: owner; source: owners
create or replace view stg_owners as
select trim(owner) as owner, branch, left_on
from owners
where owner is not null and trim(owner) <> ''
