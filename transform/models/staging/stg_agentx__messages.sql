-- One row per AgentX message.
select
    bot_name,
    _id as message_id,
    "conversationId" as conversation_id,
    {{ convai_utc('"time"') }} as sent_at,
    type as message_type,
    "userActionType" as user_action_type,
    "userInput" as user_input,
    "outMsg" as out_msg,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'agentx_messages') }}
where _sdc_deleted_at is null
