-- funnel_columns: the opportunities table's columns outside the contract (candidates for stage date columns)
-- params: (none)
-- returns: column_name, in table order
select column_name
from duckdb_columns()
where database_name = current_database() and schema_name = 'main' and table_name = 'opportunities'
  and column_name not in ('opportunity_id', 'stage', 'created_date', 'customer_id', 'amount', 'owner', 'source', 'product', 'close_date')
order by column_index
