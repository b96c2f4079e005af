-- One row per use of an AI suggestion in a Kore segment (`used[]` of the agent's own
-- searches, agentActions, and of proactive suggestions). The documented target is
-- `target.answer`; a use of another shape (the docs show proactive `used` as [] only)
-- keeps its row with null details.
with suggestion_sets as (
    select k.stream_id, k."segmentID" as segment_id, 'agent_action' as origin,
           s.ordinality::integer as set_index, s.item -> 'used' as used,
           k._sdc_batched_at
    from {{ source('convai', 'kore_interactions') }} as k
    cross join lateral unnest(k."agentActions") with ordinality as s (item, ordinality)
    where k._sdc_deleted_at is null
    union all
    select k.stream_id, k."segmentID", 'proactive', s.ordinality::integer,
           s.item -> 'used', k._sdc_batched_at
    from {{ source('convai', 'kore_interactions') }} as k
    cross join lateral unnest(k."proActiveSuggestions") with ordinality as s (item, ordinality)
    where k._sdc_deleted_at is null
)

select
    s.stream_id,
    s.segment_id,
    s.origin,
    s.set_index,
    u.ordinality::integer as use_index,
    u.item ->> 'targetType' as target_type,
    u.item -> 'target' -> 'answer' ->> 'status' as status,
    (u.item -> 'target' -> 'answer' ->> 'usedTime')::timestamptz as used_at,
    u.item -> 'target' -> 'answer' -> 'feedback' ->> 'response' as feedback,
    {{ convai_utc('s._sdc_batched_at') }} as _loaded_at
from suggestion_sets as s
cross join lateral jsonb_array_elements(
    case when jsonb_typeof(s.used) = 'array' then s.used else '[]'::jsonb end
) with ordinality as u (item, ordinality)
