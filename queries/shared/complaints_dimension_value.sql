-- shared piece complaints_dimension_value: after complaints_scope, CTEs extra and dims: each complaint in scope (pk)
-- with `value`, its value of $dimension (category, channel, severity, region, segment, owner, sub_category, product);
-- an optional column kept from the file is read by name ($handler_col, $subcategory_col, $product_col; '' = none)
,
extra as (
    -- an optional column kept from the file (sub-category, product, handler), read by name
    select pk.*,
           case when $dimension = 'owner' and $handler_col <> ''
                    then nullif(trim(json_extract_string(to_json(complaint_row), '/' || $handler_col)), '')
                when $dimension = 'sub_category' and $subcategory_col <> ''
                    then nullif(lower(trim(json_extract_string(to_json(complaint_row), '/' || $subcategory_col))), '')
                when $dimension = 'product' and $product_col <> ''
                    then nullif(trim(json_extract_string(to_json(complaint_row), '/' || $product_col)), '')
           end as extra_value
    from pk
),
dims as (
    select *,
           case $dimension
               when 'category' then category
               when 'channel' then channel
               when 'severity' then severity
               when 'region' then region
               when 'segment' then segment
               when 'owner' then case when $handler_col = '' then account_owner else extra_value end
               when 'sub_category' then extra_value
               when 'product' then extra_value
           end as value
    from extra
)
