{#-
  Kore.ai segments as conversations: one human agent's part of a conversation, assisted
  by the AI (`is_assisted`). The Raw Data API counts no messages and records no outcome;
  `language` is the value of the tag the dbt var `convai_kore_language_tag` names (tag
  keys are the AI agent developer's own: default none, so null).
-#}
{%- set language_tag = var('convai_kore_language_tag') %}

with uses as (
    select segment_id, count(*) as suggestions_used
    from {{ ref('stg_kore__suggestion_uses') }}
    group by segment_id
)

select
    'kore' as vendor,
    s.stream_id as partition_key,
    s.segment_id as conversation_key,
    s.conversation_id as parent_conversation_id,
    (coalesce(s.ended_at, s.started_at) at time zone 'UTC')::date as day,
    s.started_at,
    s.ended_at,
    s.channel,
    {% if language_tag -%}
    (select t.tag_value from {{ ref('stg_kore__tags') }} as t
     where t.segment_id = s.segment_id and t.tag_name = {{ convai_literal(language_tag) }}
     order by t.created_at, t.tag_index limit 1)
    {%- else -%}
    null::text
    {%- endif %} as language,
    null::bigint as user_messages,
    null::bigint as bot_messages,
    null::bigint as not_understood_messages,
    'unknown' as outcome,
    null::text as outcome_raw,
    null::boolean as escalated,
    null::boolean as deflected,
    null::boolean as ai_handled,
    null::boolean as escalation_failed,
    true as is_assisted,
    null::numeric as csat,
    coalesce(u.suggestions_used, 0)::bigint as assist_suggestions_used,
    null::boolean as test_mode,
    s._loaded_at
from {{ ref('stg_kore__segments') }} as s
left join uses as u on u.segment_id = s.segment_id
