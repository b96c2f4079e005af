-- One row per agent action (search-bar entry, library selection...) of a Kore segment.
select
    k.stream_id,
    k."segmentID" as segment_id,
    a.ordinality::integer as action_index,
    a.action ->> 'actionType' as action_type,
    a.action -> 'action' ->> 'searchPhrase' as search_phrase,
    (a.action -> 'action' ->> 'displayTime')::timestamptz as displayed_at,
    a.action -> 'action' -> 'suggestionsShown' as suggestions_shown,
    (a.action -> 'action' ->> 'suggestionUsed')::integer as suggestion_used,
    (a.action -> 'action' ->> 'correctionsPresented')::integer as corrections_presented,
    (a.action -> 'action' ->> 'correctionsAccepted')::integer as corrections_accepted,
    {{ convai_utc('k._sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'kore_interactions') }} as k
cross join lateral unnest(k."agentActions") with ordinality as a (action, ordinality)
where k._sdc_deleted_at is null
