-- One row per tag the AI agent emitted in a Kore segment (`tags[]`); tag keys are the
-- AI agent developer's own.
select
    k.stream_id,
    k."segmentID" as segment_id,
    t.ordinality::integer as tag_index,
    t.tag ->> 'type' as tag_type,
    t.tag ->> 'name' as tag_name,
    t.tag ->> 'value' as tag_value,
    t.tag ->> 'messageID' as message_id,
    (t.tag ->> 'createdAt')::timestamptz as created_at,
    {{ convai_utc('k._sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'kore_interactions') }} as k
cross join lateral unnest(k.tags) with ordinality as t (tag, ordinality)
where k._sdc_deleted_at is null
