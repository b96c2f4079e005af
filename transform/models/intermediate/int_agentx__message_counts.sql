-- AgentX messages counted per conversation and sender, by the documented message types:
-- UserInput (the customer), Question and BotMessage (the AI agent), any other (other).
select
    bot_name,
    conversation_id,
    count(*) filter (where message_type = 'UserInput') as user_messages,
    count(*) filter (where message_type in ('Question', 'BotMessage')) as bot_messages,
    count(*) filter (
        where message_type is null or message_type not in ('UserInput', 'Question', 'BotMessage')
    ) as other_messages,
    min(sent_at) as first_message_at,
    max(sent_at) as last_message_at,
    max(_loaded_at) as _loaded_at
from {{ ref('stg_agentx__messages') }}
where conversation_id is not null
group by bot_name, conversation_id
