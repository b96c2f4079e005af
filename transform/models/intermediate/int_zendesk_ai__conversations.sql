{#-
  Zendesk AI export rows as conversations, counted on their export_date. The flags follow
  the export documentation's SQL ("Popular metrics"): escalated = status email, agent or
  customEscalation; deflected = any other status (a null status is neither). Statuses and
  resolutions come from dbt vars whose defaults are the documented values
  (docs/models.md); the status "bot handled" is spelt both `botHandled` and `bot_handled`.
-#}
{%- set escalated = var('convai_zendesk_ai_escalated_statuses') %}
{%- set bot_handled = var('convai_zendesk_ai_bot_handled_statuses') %}
{%- set failed = var('convai_zendesk_ai_failed_escalation_statuses') %}
{%- set resolved = var('convai_zendesk_ai_resolved_resolutions') %}
{%- set informed = var('convai_zendesk_ai_informed_resolutions') %}

select
    'zendesk_ai' as vendor,
    bot_id as partition_key,
    conversation_id as conversation_key,
    platform_conversation_id as parent_conversation_id,
    export_date as day,
    started_at,
    ended_at,
    channel,
    language,
    coalesce(customer_messages_count, visitor_messages_count)::bigint as user_messages,
    bot_messages_count::bigint as bot_messages,
    not_understood_messages_count::bigint as not_understood_messages,
    case
        when {{ convai_in('conversation_status', escalated) }} then 'escalated'
        when {{ convai_in('conversation_status', failed) }} then 'unresolved'
        when {{ convai_in('last_resolution', resolved) }} then 'resolved'
        when {{ convai_in('last_resolution', informed) }} then 'informed'
        else 'unknown'
    end as outcome,
    nullif(concat_ws('/', conversation_status, last_resolution), '') as outcome_raw,
    coalesce({{ convai_in('conversation_status', escalated) }}, false) as escalated,
    (conversation_status is not null
        and not {{ convai_in('conversation_status', escalated) }}) as deflected,
    coalesce({{ convai_in('conversation_status', bot_handled) }}, false) as ai_handled,
    coalesce({{ convai_in('conversation_status', failed) }}, false) as escalation_failed,
    false as is_assisted,
    -- BSAT: -1 offered but not answered, null not offered
    case when bsat_score >= 0 then bsat_score end as csat,
    null::bigint as assist_suggestions_used,
    test_mode,
    _loaded_at
from {{ ref('stg_zendesk_ai__conversations') }}
