-- funnel_attributes: the columns side files add to opportunities (an owner's manager and office, a product's
--   series), each a breakdown of the funnel
-- params:
-- returns: column_name, one row per column, in the order of the files' columns
-- (pragma_table_info reads this database's tables only: see funnel_columns)
select name as column_name
from (select 'owners' as table_name, cid, name from pragma_table_info('owners')
      union all
      select 'product_attributes', cid, name from pragma_table_info('product_attributes'))
where name not in ('owner', 'product', 'left_on')
  and name in (select name from pragma_table_info('stg_opportunities'))
order by table_name, cid
