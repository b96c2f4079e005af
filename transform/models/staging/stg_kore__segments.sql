-- One row per Kore.ai AgentAssist segment: one human agent's part of a conversation,
-- assisted by the AI. Its arrays are unnested by stg_kore__tags, stg_kore__agent_actions
-- and stg_kore__suggestion_uses.
select
    stream_id,
    "segmentID" as segment_id,
    "conversationID" as conversation_id,
    "botSessionID" as bot_session_id,
    channel,
    agent ->> 'agentId' as agent_id,
    agent ->> 'name' as agent_name,
    "queueInfo" ->> 'queueId' as queue_id,
    "queueInfo" ->> 'queueName' as queue_name,
    {{ convai_utc('"segmentStartTime"') }} as started_at,
    {{ convai_utc('"segmentEndTime"') }} as ended_at,
    "countScrollUp" as scroll_up,
    "countScrollDn" as scroll_down,
    "isWelcomeMsgRead" as welcome_message_read,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'kore_interactions') }}
where _sdc_deleted_at is null
