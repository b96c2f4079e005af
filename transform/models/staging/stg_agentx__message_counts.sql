-- AgentX messages counted per conversation and sender.
select
    bot_name,
    conversation_id,
    count(*) filter (where sender = 'user') as user_messages,
    count(*) filter (where sender = 'bot') as bot_messages,
    count(*) filter (where sender = 'other') as other_messages,
    min(sent_at) as first_message_at,
    max(sent_at) as last_message_at,
    max(_loaded_at) as _loaded_at
from {{ ref('stg_agentx__messages') }}
where conversation_id is not null
group by bot_name, conversation_id
