-- shared piece complaints_extra_reopen: whether a complaint was reopened, from an extra column or its status
--   (fills complaints_scope's extra_columns slot)
,
           -- an optional reopen column kept from the file (a count or yes/no), read by name
           case when $reopen_col <> '' then lower(trim(json_extract_string(to_json(k), '/' || $reopen_col))) end as reopen_value,
           list_contains($reopened_statuses, lower(trim(coalesce(k.status, '')))) as is_status_reopened
