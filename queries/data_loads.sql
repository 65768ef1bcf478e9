-- data_loads: the load history, newest first
-- params: $limit INTEGER
-- returns: load_id, version, loaded_at, file_name, table_name, mode, n_rows, n_rejected, content_hash
select load_id, version, loaded_at, file_name, table_name, mode, n_rows, n_rejected, content_hash
from loads
order by load_id desc
limit $limit
