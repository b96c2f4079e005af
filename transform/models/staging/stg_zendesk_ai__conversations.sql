-- One row per Zendesk AI agents export row (a conversation that ended on export_date).
select
    bot_id,
    bot_name,
    conversation_id,
    platform_conversation_id,
    export_date,
    {{ convai_utc('conversation_start_time') }} as started_at,
    {{ convai_utc('conversation_end_time') }} as ended_at,
    conversation_type,
    language,
    channel,
    test_mode,
    conversation_status,
    last_resolution,
    automated_resolution,
    (conversations_data ->> 'bsatScore')::numeric as bsat_score,
    -- the export documentation spells the customer's message count both ways:
    -- customer_messages_count (example, metrics), visitor_messages_count (field list)
    customer_messages_count,
    visitor_messages_count,
    bot_messages_count,
    not_understood_messages_count,
    has_knowledge_response_attempt,
    is_llm_conversation,
    "knowledge_notUnderstood_count" as knowledge_not_understood,
    "knowledge_responseGenerated_count" as knowledge_responses_generated,
    "knowledge_errorOccurred_count" as knowledge_errors,
    "knowledge_escalationRequired_count" as knowledge_escalations_required,
    knowledge_fallback_count as knowledge_fallbacks,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'zendesk_ai_conversations') }}
where _sdc_deleted_at is null
