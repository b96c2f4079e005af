-- One row per taxonomy category assigned to an Airgentic record (multi-label: a record
-- can have several categories per taxonomy, and several taxonomies).
select
    r.partition_id,
    r.service_id,
    r.thread_id,
    {{ convai_utc('r.date_time') }} as recorded_at,
    tax ->> 'taxonomy_key' as taxonomy_key,
    tax ->> 'taxonomy_name' as taxonomy_name,
    cat ->> 'node_key' as node_key,
    cat ->> 'label' as label,
    array(select jsonb_array_elements_text(coalesce(cat -> 'path', '[]'::jsonb))) as path,
    (cat ->> 'is_primary')::boolean as is_primary,
    (cat ->> 'rank')::integer as rank,
    {{ convai_utc('r._sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'airgentic_records') }} as r
cross join lateral unnest(r.taxonomies) as t (tax)
cross join lateral jsonb_array_elements(
    case when jsonb_typeof(tax -> 'categories') = 'array' then tax -> 'categories'
         else '[]'::jsonb end
) as c (cat)
where r._sdc_deleted_at is null
