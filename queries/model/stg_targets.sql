-- stg_targets: one row per target as loaded, with its month as a date and "everyone" spelled one way
-- grain: owner, month; source: targets
--   owner_key: the owner or team, NULL for the whole company (an empty owner, or a word of vocabulary kind
--     everyone_owner: "all", "total", "全部", "合计"...; crmlens/vocab.py)
--   month_start: the first day of the month (2025-01, 2025/01, 2025年1月, 202501, or any date in the month);
--     NULL when the text is not a month (the funnel page counts those rows)
create or replace view stg_targets as
select t.*,
       case when t.owner is null or trim(t.owner) = ''
                 or lower(trim(t.owner)) in (select word from vocabulary where kind = 'everyone_owner')
            then null else trim(t.owner) end as owner_key,
       date_trunc('month', coalesce(
           try_strptime(trim(t.month), ['%Y-%m-%d', '%Y/%m/%d', '%Y-%m', '%Y/%m', '%Y.%m', '%Y年%m月', '%Y年%m月%d日', '%Y%m']),
           try_cast(trim(t.month) as timestamp)))::date as month_start
from targets t
