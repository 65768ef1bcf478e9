-- stg_product_attributes: one row per product of a side file, its other columns as loaded
-- grain: product; source: product_attributes (joined into stg_orders and stg_opportunities by product)
create or replace view stg_product_attributes as
select *
from product_attributes
