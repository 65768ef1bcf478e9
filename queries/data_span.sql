-- data_span: what is loaded, per table: row count and the date span of its main date (kept at load: mart_data_span)
-- params: (none)
-- returns: table_name, n_rows, first_date, last_date
select table_name, n_rows, first_date, last_date from mart_data_span order by position
