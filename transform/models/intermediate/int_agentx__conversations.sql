{#-
  AgentX conversations and their messages. The outcome comes from the conversation's
  tags, mapped by dbt vars (docs/models.md): resolved and informed by default, as the
  docs name them. The docs name no tag for a hand-over to a human, so
  `convai_agentx_escalated_tags` is empty by default and escalation is null (no signal).
-#}
{%- set escalated = var('convai_agentx_escalated_tags') %}
{%- set resolved = var('convai_agentx_resolved_tags') %}
{%- set informed = var('convai_agentx_informed_tags') %}

select
    'agentx' as vendor,
    c.bot_name as partition_key,
    c.conversation_id as conversation_key,
    null::text as parent_conversation_id,
    (coalesce(greatest(c.last_action_at, m.last_message_at), c.started_at)
        at time zone 'UTC')::date as day,
    c.started_at,
    coalesce(greatest(c.last_action_at, m.last_message_at), c.started_at) as ended_at,
    null::text as channel,
    c.locale as language,
    coalesce(m.user_messages, c.user_message_count)::bigint as user_messages,
    m.bot_messages::bigint as bot_messages,
    null::bigint as not_understood_messages,
    case
        when {{ convai_overlaps('c.tags', escalated) }} then 'escalated'
        when {{ convai_overlaps('c.tags', resolved) }} then 'resolved'
        when {{ convai_overlaps('c.tags', informed) }} then 'informed'
        else 'unknown'
    end as outcome,
    nullif(array_to_string(c.tags, ','), '') as outcome_raw,
    {% if escalated -%}
    {{ convai_overlaps('c.tags', escalated) }} as escalated,
    not {{ convai_overlaps('c.tags', escalated) }} as deflected,
    {%- else -%}
    null::boolean as escalated,
    null::boolean as deflected,
    {%- endif %}
    null::boolean as ai_handled,
    null::boolean as escalation_failed,
    false as is_assisted,
    null::numeric as csat,
    null::bigint as assist_suggestions_used,
    null::boolean as test_mode,
    greatest(c._loaded_at, m._loaded_at) as _loaded_at
from {{ ref('stg_agentx__conversations') }} as c
left join {{ ref('int_agentx__message_counts') }} as m
    on m.bot_name = c.bot_name and m.conversation_id = c.conversation_id
