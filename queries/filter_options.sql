-- filter_options: the values a filter can offer, per dimension, most frequent first
-- params: (none)
-- returns: dimension ('segment', 'region', 'channel', 'owner', 'source', 'opportunity_owner', 'category'),
--   value, n_rows
select dimension, value, n_rows
from mart_filter_values
order by dimension, n_rows desc, value
