-- funnel_columns: the opportunities table's columns outside the contract (candidates for stage date columns)
-- params: (none)
-- returns: column_name, in table order
-- (pragma_table_info reads this database's table only; duckdb_columns() would list every attached database's,
-- which on DuckLake asks PostgreSQL for each attached catalog's columns)
select name as column_name
from pragma_table_info('opportunities')
where name not in ('opportunity_id', 'stage', 'created_date', 'customer_id', 'amount', 'owner', 'source', 'product', 'close_date')
order by cid
