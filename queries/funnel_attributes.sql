-- funnel_attributes: the columns side files add to opportunities (an owner's manager and office, a product's
--   series), each a breakdown of the funnel
-- params:
-- returns: column_name, one row per column, in the order of the files' columns
select column_name
from duckdb_columns()
where database_name = current_database() and schema_name = 'main'
  and table_name in ('owners', 'product_attributes')
  and column_name not in ('owner', 'product', 'left_on')
  and column_name in (select column_name from duckdb_columns() where table_name = 'stg_opportunities'
                      and database_name = current_database())
order by table_name, column_index
