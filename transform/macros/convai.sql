{#- Helpers shared by the models of tap-convai. -#}

{#- A `timestamp without time zone` as target-postgres writes it (UTC wall time) as a
    timestamptz. -#}
{% macro convai_utc(column) -%}
  ({{ column }}::timestamp at time zone 'UTC')
{%- endmacro %}

{#- numerator / denominator as a fraction, null when either is null or the denominator
    is 0: a rate is null where its figure has no signal. -#}
{% macro convai_ratio(numerator, denominator) -%}
  (({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}

{#- A SQL string literal. -#}
{% macro convai_literal(value) -%}
  '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- `expression` is one of `values` (a list var of vendor values); false for an empty
    list, null when `expression` is null. -#}
{% macro convai_in(expression, values) -%}
  {%- if values | length == 0 -%} false
  {%- else -%}
  ({{ expression }} in ({% for value in values %}{{ convai_literal(value) }}{{ ", " if not loop.last }}{% endfor %}))
  {%- endif -%}
{%- endmacro %}

{#- The text array `expression` holds one of `values`; false for an empty list. -#}
{% macro convai_overlaps(expression, values) -%}
  {%- if values | length == 0 -%} false
  {%- else -%}
  (coalesce({{ expression }}, '{}'::text[]) && array[{% for value in values %}{{ convai_literal(value) }}{{ ", " if not loop.last }}{% endfor %}]::text[])
  {%- endif -%}
{%- endmacro %}

{#- `select ... union all select ...` of `columns` from each of `relations`: the end
    models union the vendors' intermediate models this way, by column name. -#}
{% macro convai_union(relations, columns) -%}
  {%- for relation in relations %}
    select {{ columns | join(", ") }} from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
  {%- endfor %}
{%- endmacro %}

{#- The columns every int_<vendor>__conversations model emits, in this order (null where
    the vendor has no signal); convai_conversations is their union. -#}
{% macro convai_conversation_columns() -%}
  {{ return([
      "vendor", "partition_key", "conversation_key", "parent_conversation_id", "day",
      "started_at", "ended_at", "channel", "language",
      "user_messages", "bot_messages", "not_understood_messages",
      "outcome", "outcome_raw", "escalated", "deflected", "ai_handled", "escalation_failed",
      "is_assisted", "csat", "assist_suggestions_used", "test_mode", "_loaded_at",
  ]) }}
{%- endmacro %}

{#- The columns every int_<vendor>__daily model emits (null where the vendor has no
    signal); convai_daily_metrics is their union, with the rates computed from them. -#}
{% macro convai_daily_columns() -%}
  {{ return([
      "day", "vendor", "partition_key", "conversations",
      "resolved_conversations", "informed_conversations", "escalated_conversations",
      "unresolved_conversations", "unknown_conversations",
      "deflected_conversations", "ai_handled_conversations", "failed_escalation_conversations",
      "user_messages", "bot_messages", "not_understood_messages",
      "csat_avg", "csat_responses", "assist_used_conversations", "assist_suggestions_used",
      "test_conversations",
      "aurion_csat_positive_rate", "aurion_csat_total_responses",
      "aurion_help_center_deflection_rate", "aurion_help_center_views",
      "aurion_help_center_helpful", "aurion_help_center_not_helpful",
      "aurion_email_conversations", "aurion_email_inbound_messages",
      "aurion_email_outbound_messages",
      "_loaded_at",
  ]) }}
{%- endmacro %}

{#- How many conversations have the boolean `column` true; null when none of them has
    the signal at all (every value null). -#}
{% macro convai_count_true(column) -%}
  case when count({{ column }}) > 0 then count(*) filter (where {{ column }}) end
{%- endmacro %}

{#- The daily figures of a vendor's conversations (an int_<vendor>__conversations model),
    per day and partition: the same formulas for every vendor, each figure null where
    the vendor's conversations carry no signal for it. -#}
{% macro convai_daily_figures(conversations) -%}
select
    day,
    vendor,
    partition_key,
    count(*) as conversations,
    count(*) filter (where outcome = 'resolved') as resolved_conversations,
    count(*) filter (where outcome = 'informed') as informed_conversations,
    {{ convai_count_true('escalated') }} as escalated_conversations,
    count(*) filter (where outcome = 'unresolved') as unresolved_conversations,
    count(*) filter (where outcome = 'unknown') as unknown_conversations,
    {{ convai_count_true('deflected') }} as deflected_conversations,
    {{ convai_count_true('ai_handled') }} as ai_handled_conversations,
    {{ convai_count_true('escalation_failed') }} as failed_escalation_conversations,
    sum(user_messages)::bigint as user_messages,
    sum(bot_messages)::bigint as bot_messages,
    sum(not_understood_messages)::bigint as not_understood_messages,
    avg(csat) as csat_avg,
    count(csat) as csat_responses,
    case when count(assist_suggestions_used) > 0
         then count(*) filter (where assist_suggestions_used > 0) end
        as assist_used_conversations,
    sum(assist_suggestions_used)::bigint as assist_suggestions_used,
    {{ convai_count_true('test_mode') }} as test_conversations,
    null::numeric as aurion_csat_positive_rate,
    null::bigint as aurion_csat_total_responses,
    null::numeric as aurion_help_center_deflection_rate,
    null::bigint as aurion_help_center_views,
    null::bigint as aurion_help_center_helpful,
    null::bigint as aurion_help_center_not_helpful,
    null::bigint as aurion_email_conversations,
    null::bigint as aurion_email_inbound_messages,
    null::bigint as aurion_email_outbound_messages,
    max(_loaded_at) as _loaded_at
from {{ conversations }}
group by day, vendor, partition_key
{%- endmacro %}
