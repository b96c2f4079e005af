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
    -- the export documentation names the customer's message count both
    -- customer_messages_count (example, metrics) and visitor_messages_count (field list)
    coalesce(customer_messages_count, visitor_messages_count) as customer_messages,
    bot_messages_count as bot_messages,
    not_understood_messages_count as not_understood_messages,
    has_knowledge_response_attempt,
    is_llm_conversation,
    "knowledge_notUnderstood_count" as knowledge_not_understood,
    "knowledge_responseGenerated_count" as knowledge_responses_generated,
    "knowledge_errorOccurred_count" as knowledge_errors,
    "knowledge_escalationRequired_count" as knowledge_escalations_required,
    knowledge_fallback_count as knowledge_fallbacks,
    coalesce(cardinality(triggered_replies), 0) as triggered_replies,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'zendesk_ai_conversations') }}
where _sdc_deleted_at is null
