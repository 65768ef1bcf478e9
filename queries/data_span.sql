-- data_span: what is loaded, per table: row count and the date span of its main date
-- params: (none)
-- returns: table_name, n_rows, first_date, last_date
select 'customers' as table_name, count(*) as n_rows, min(signup_date) as first_date, max(signup_date) as last_date from stg_customers
union all
select 'orders', coalesce(sum(n_lines), 0)::bigint, min(order_date), max(order_date) from mart_order_dates  -- every line
union all
select 'opportunities', count(*), min(effective_created), max(effective_created) from stg_opportunities  -- dated by created, else the earliest date
union all
select 'opportunity_stage_history', count(*), min(entered_at)::date, max(entered_at)::date from stg_opportunity_stage_history
union all
select 'complaints', count(*), min(created_at)::date, max(created_at)::date from stg_complaints
union all
select 'surveys', count(*), min(survey_date), max(survey_date) from stg_surveys
union all
select 'targets', count(*), min(month_start), max(month_start) from stg_targets
union all
select 'activities', count(*), min(activity_date), max(activity_date) from stg_activities
union all
select 'owners', count(*), null, null from stg_owners
union all
select 'product_attributes', count(*), null, null from stg_product_attributes
