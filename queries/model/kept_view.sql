-- kept_view: the template of the tables mart_<query>_kept (crmlens.model.KEPT_VIEWS): page query <query>'s rows for
--   the page as it opens (the pages' default period, ending on mart_customer_period's as_of, the newest date in the
--   data; every setting at its default; no filter), worked out at load with the page's own query, so that opening the
--   page reads its rows instead of working them out (crmlens.model.kept_view; any other setting runs the query).
--   The churn page's churn_summary and churn_bucket (the default rule and grain, churn from orders) and every query of
--   the complaints page (crmlens.complaints.opening_params: the SLA hours of the data's severities at their defaults)
-- grain: the query's rows (queries/<query>.sql) in its order (kept_row); source: that query on the marts; settings: the
--   parameters it was run with and a digest of its SQL text (JSON). With nothing to keep (no default period; the
--   complaints page without a complaint) the table is settings NULL alone, never read (crmlens.model.build)
create or replace table kept_view as
select $settings::varchar as settings, row_number() over () as kept_row, q.*
from (
-- query: kept_view
) q
