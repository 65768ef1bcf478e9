-- shared piece complaints_extra_dimension: the value of an extra column (sub-category, product, handler) to
--   break down by (fills complaints_scope's extra_columns slot)
,
           -- an optional column kept from the file (sub-category, product, handler), read by name
           case when $dimension = 'owner' and $handler_col <> ''
                    then nullif(trim(json_extract_string(to_json(k), '/' || $handler_col)), '')
                when $dimension = 'sub_category' and $subcategory_col <> ''
                    then nullif(lower(trim(json_extract_string(to_json(k), '/' || $subcategory_col))), '')
                when $dimension = 'product' and $product_col <> ''
                    then nullif(trim(json_extract_string(to_json(k), '/' || $product_col)), '')
           end as extra_value
