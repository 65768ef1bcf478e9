-- stg_owner_attributes: one row per owner (sales agent) of a side file, its other columns as loaded
-- grain: owner; source: owner_attributes (joined into stg_customers and stg_opportunities by owner)
create or replace view stg_owner_attributes as
select *
from owner_attributes
