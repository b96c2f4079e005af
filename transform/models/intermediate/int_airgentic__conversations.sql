{#-
  Airgentic threads as conversations: a thread (partition_id, thread_id) is made of
  several records, one per question. The outcome is read from its last record; vendor
  values come from dbt vars (docs/models.md), whose defaults are what the docs show:
  `completeness` "Full" and `user_rating` "Good". The docs name no negative rating and
  no unanswered value, so by default `csat` and `not_understood_messages` are null.
-#}
{%- set full = var('convai_airgentic_full_answers') %}
{%- set partial = var('convai_airgentic_partial_answers') %}
{%- set unanswered = var('convai_airgentic_unanswered') %}
{%- set positive = var('convai_airgentic_positive_ratings') %}
{%- set negative = var('convai_airgentic_negative_ratings') %}

with records as (
    select
        r.*,
        {% if positive and negative -%}
        case when {{ convai_in('r.user_rating', positive) }} then 1
             when {{ convai_in('r.user_rating', negative) }} then 0 end
        {%- else -%}
        null::integer
        {%- endif %} as rating_score,
        row_number() over (
            partition by r.partition_id, r.thread_id
            order by r.recorded_at desc, r.standalone_question_id desc nulls last
        ) as newest_first
    from {{ ref('stg_airgentic__records') }} as r
),

threads as (
    select
        partition_id,
        thread_id,
        min(service_id) as service_id,
        min(recorded_at) as started_at,
        max(recorded_at) as ended_at,
        count(*) as questions,
        {% if unanswered -%}
        count(*) filter (where {{ convai_in('completeness', unanswered) }})
        {%- else -%}
        null::bigint
        {%- endif %} as unanswered,
        avg(rating_score) as csat,
        max(_loaded_at) as _loaded_at
    from records
    group by partition_id, thread_id
)

select
    'airgentic' as vendor,
    t.service_id as partition_key,
    t.thread_id as conversation_key,
    null::text as parent_conversation_id,
    (t.ended_at at time zone 'UTC')::date as day,
    t.started_at,
    t.ended_at,
    -- "Page URL where the conversation originated"
    case when last.browser_url is not null then 'web' end as channel,
    last.language,
    t.questions::bigint as user_messages,
    t.questions::bigint as bot_messages,
    t.unanswered::bigint as not_understood_messages,
    case
        when last.error_code is not null then 'unresolved'
        when {{ convai_in('last.completeness', unanswered) }} then 'unresolved'
        when {{ convai_in('last.completeness', full) }}
            and {{ convai_in('last.user_rating', positive) }} then 'resolved'
        when {{ convai_in('last.completeness', full + partial) }} then 'informed'
        else 'unknown'
    end as outcome,
    nullif(concat_ws('/', last.completeness, last.user_rating, 'error:' || last.error_code),
           '') as outcome_raw,
    null::boolean as escalated,
    null::boolean as deflected,
    null::boolean as ai_handled,
    null::boolean as escalation_failed,
    false as is_assisted,
    t.csat::numeric as csat,
    null::bigint as assist_suggestions_used,
    null::boolean as test_mode,
    t._loaded_at
from threads as t
join records as last
    on last.partition_id = t.partition_id and last.thread_id = t.thread_id
    and last.newest_first = 1
