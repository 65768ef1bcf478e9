-- stg_surveys: one row per survey answer as loaded
-- grain: customer_id, survey_date; source: surveys
create or replace view stg_surveys as
select *
from surveys
