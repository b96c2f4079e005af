-- One row per AgentX conversation.
select
    bot_name,
    _id as conversation_id,
    {{ convai_utc('"startTime"') }} as started_at,
    {{ convai_utc('"lastActionAt"') }} as last_action_at,
    locale,
    coalesce(tags, '{}'::text[]) as tags,
    "userMessageCount" as user_message_count,
    metadata ->> 'question' as question,
    metadata ->> 'browser_visitorType' as visitor_type,
    (metadata ->> 'draft')::boolean as is_draft,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'agentx_conversations') }}
where _sdc_deleted_at is null
