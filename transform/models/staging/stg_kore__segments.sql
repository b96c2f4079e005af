-- One row per Kore.ai AgentAssist segment: one human agent's part of a conversation,
-- assisted by the AI. Counts of the AI's suggestions and their use are per segment.
with uses as (
    select segment_id, count(*) as suggestions_used,
           count(*) filter (where feedback = 'up') as feedback_up,
           count(*) filter (where feedback = 'down') as feedback_down
    from {{ ref('stg_kore__suggestion_uses') }}
    group by segment_id
)

select
    k.stream_id,
    k."segmentID" as segment_id,
    k."conversationID" as conversation_id,
    k."botSessionID" as bot_session_id,
    k.channel,
    k.agent ->> 'agentId' as agent_id,
    k.agent ->> 'name' as agent_name,
    k."queueInfo" ->> 'queueId' as queue_id,
    k."queueInfo" ->> 'queueName' as queue_name,
    {{ convai_utc('k."segmentStartTime"') }} as started_at,
    {{ convai_utc('k."segmentEndTime"') }} as ended_at,
    (select t ->> 'value' from unnest(k.tags) as t where t ->> 'name' = 'language'
     order by t ->> 'createdAt' limit 1) as language,
    (select t ->> 'value' from unnest(k.tags) as t where t ->> 'name' = 'intent'
     order by t ->> 'createdAt' limit 1) as first_intent,
    coalesce(cardinality(k."agentActions"), 0) as agent_actions,
    coalesce(cardinality(k."proActiveSuggestions"), 0) as proactive_suggestions,
    coalesce(cardinality(k."agenticActivities"), 0) as agentic_activities,
    coalesce(u.suggestions_used, 0) as suggestions_used,
    coalesce(u.feedback_up, 0) as feedback_up,
    coalesce(u.feedback_down, 0) as feedback_down,
    coalesce(cardinality(k."linksClicked"), 0) as links_clicked,
    k."countScrollUp" as scroll_up,
    k."countScrollDn" as scroll_down,
    k."isWelcomeMsgRead" as welcome_message_read,
    {{ convai_utc('k._sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'kore_interactions') }} as k
left join uses as u on u.segment_id = k."segmentID"
where k._sdc_deleted_at is null
