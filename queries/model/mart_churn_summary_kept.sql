-- mart_churn_summary_kept: the churn page's churn_summary as the page opens (the pages' default period, the default churn
--   rule and grain, churn from orders, no filter; the period ends on mart_customer_period's as_of, the newest date in
--   the data), worked out at load with the page's own query, so that opening the
--   page reads its rows instead of working them out (crmlens.model.kept_view; any other setting runs the query)
-- grain: churn_summary's rows (queries/churn_summary.sql); source: that query on the marts; settings: the parameters it
--   was run with and a digest of its SQL text (JSON; NULL when there is no default period)
create or replace table mart_churn_summary_kept as
-- (kept_row: the query's order)
select $settings::varchar as settings, row_number() over () as kept_row, q.*
from (
-- query: churn_summary
) q
