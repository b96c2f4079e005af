-- One row per AgentX message, with its sender: `user` for UserInput, `bot` for the AI
-- agent's Question and BotMessage, `other` for any other type.
select
    bot_name,
    _id as message_id,
    "conversationId" as conversation_id,
    {{ convai_utc('"time"') }} as sent_at,
    type as message_type,
    case
        when type = 'UserInput' then 'user'
        when type in ('Question', 'BotMessage') then 'bot'
        else 'other'
    end as sender,
    "userActionType" as user_action_type,
    coalesce(
        "userInput",
        (select string_agg(step ->> 'text', E'\n')
         from jsonb_array_elements(
             case when jsonb_typeof("outMsg" -> 'steps') = 'array' then "outMsg" -> 'steps'
                  else '[]'::jsonb end) as step)
    ) as text,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'agentx_messages') }}
where _sdc_deleted_at is null
