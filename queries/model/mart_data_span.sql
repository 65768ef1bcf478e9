-- mart_data_span: one row per loaded table: how many rows it has and the span of its main date (what the sidebar,
-- the Data page and the default period read on every page)
-- grain: table_name; source: the staging views (orders: mart_order_dates, every line of any kind)
--   position: the order the Data page lists them in
-- (in_build_tables: an order append makes the orders row only; the other rows' tables read no orders)
create or replace table mart_data_span as
select * from (
select 1 as position, 'customers' as table_name, count(*) as n_rows, min(signup_date) as first_date, max(signup_date) as last_date from stg_customers
union all
select 2, 'orders', coalesce(sum(n_lines), 0)::bigint, min(order_date), max(order_date) from mart_order_dates
union all
select 3, 'opportunities', count(*), min(effective_created), max(effective_created) from stg_opportunities  -- dated by created, else the earliest date
union all
select 4, 'opportunity_stage_history', count(*), min(entered_at)::date, max(entered_at)::date from stg_opportunity_stage_history
union all
select 5, 'complaints', count(*), min(created_at)::date, max(created_at)::date from stg_complaints
union all
select 6, 'surveys', count(*), min(survey_date), max(survey_date) from stg_surveys
union all
select 7, 'targets', count(*), min(month_start), max(month_start) from stg_targets
union all
select 8, 'activities', count(*), min(activity_date), max(activity_date) from stg_activities
union all
select 9, 'owners', count(*), null, null from stg_owners
union all
select 10, 'product_attributes', count(*), null, null from stg_product_attributes
) where in_build_tables(table_name)
