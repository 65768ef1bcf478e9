-- shared piece complaints_scope: the complaints in scope, as CTEs cat_map, sla, as_of, all_k (every
-- complaint with its category key, SLA, times and customer attributes: mart_complaints), fk (customer filters
-- applied, `matches` = complaint filters) and pk (matching complaints created in the period); starts the WITH.
-- $sla_met_col: a column of the file holding its own SLA verdict per complaint ('' when none), read in the words of
-- $sla_met_words and $sla_missed_words (crmlens.vocab): where it gives one, it decides the breach
with cat_map as (
    select unnest($category_aliases) as alias, unnest($category_keys) as category_key
),
sla as (
    select unnest($sla_severities) as severity, unnest($sla_hours) as sla_hours
),
as_of as (
    -- "now" for open complaints: the newest timestamp in the complaints table (the export time)
    select max(as_of_at) as as_of_at from mart_complaints
),
all_k as (
    select k.complaint_id, k.customer_id, k.created_at, k.first_response_at, k.resolved_at, k.satisfaction,
           coalesce(m.category_key, nullif(k.category_name, '')) as category,
           k.severity, k.channel, k.is_open, k.hours_to_response, k.hours_to_resolve, k.hours_open,
           coalesce(s.sla_hours, $sla_default_hours) as sla_hours,
           k.region, k.segment, k.account_owner, k.customer_name, k.is_known_customer, k.amt_revenue_before,
           k.complaint_row,  -- the whole row as loaded: optional columns kept from the file are read by name
           -- the export's own SLA verdict (ServiceNow's made_sla), when the file has such a column: met, missed, NULL
           case when list_contains($sla_met_words, v.sla_word) then true
                when list_contains($sla_missed_words, v.sla_word) then false end as sla_met_given
    from mart_complaints k
    cross join lateral (
        select case when $sla_met_col <> '' then
                    lower(trim(json_extract_string(to_json(k.complaint_row), '/' || $sla_met_col))) end as sla_word
    ) v
    left join cat_map m on m.alias = k.category_name
    left join sla s on s.severity = k.severity
),
fk as (
    -- customer filters; `matches` = the complaint filters
    select *,
           (len($category) = 0 or list_contains($category, category))
           and (len($severity) = 0 or list_contains($severity, severity))
           and (len($complaint_channel) = 0 or list_contains($complaint_channel, channel)) as matches,
           -- breached: the export's own verdict where it gives one, else resolved after the SLA hours, or open past them
           case when sla_met_given is not null then not sla_met_given
                when hours_to_resolve is not null then hours_to_resolve > sla_hours
                when is_open and hours_open > sla_hours then true end as is_breached,  -- NULL: not judged yet
           case when hours_to_resolve is not null then len(list_filter($band_hours, x -> x < hours_to_resolve))
                when is_open then -1 else -2 end as band
    from all_k
    where (len($region) = 0 or list_contains($region, region))
      and (len($segment) = 0 or list_contains($segment, segment))
      and (len($owner) = 0 or list_contains($owner, account_owner))
),
pk as (
    select * from fk where matches and created_at >= $start and created_at < $end + interval 1 day
)
