{{ config(unique_key=['vendor', 'conversation_key']) }}

{#-
  One row per conversation of every vendor that exports conversations.
  Incremental: a run rebuilds only the conversations that have a source row loaded
  (_sdc_batched_at) after the newest one this model already holds for that vendor;
  a conversation made of several rows (Airgentic thread, AgentX conversation and its
  messages) is rebuilt from all its rows. The outcome mapping is in docs/models.md.
-#}

with

{# ---------------------------------------------------------------- Airgentic threads #}
airgentic_changed as (
    select distinct partition_id, thread_id
    from {{ ref('stg_airgentic__records') }}
    {% if is_incremental() %}
    where _loaded_at > {{ convai_high_water('airgentic') }}
    {% endif %}
),

airgentic_records as (
    select r.*,
           row_number() over (
               partition by r.partition_id, r.thread_id
               order by r.recorded_at desc, r.standalone_question_id desc nulls last
           ) as newest_first
    from {{ ref('stg_airgentic__records') }} as r
    join airgentic_changed using (partition_id, thread_id)
),

airgentic_threads as (
    select
        partition_id,
        thread_id,
        min(service_id) as service_id,
        min(recorded_at) as started_at,
        max(recorded_at) as ended_at,
        count(*) as questions,
        count(*) filter (where completeness = 'Unanswered') as unanswered,
        avg(user_rating_score) as csat,
        max(_loaded_at) as _loaded_at
    from airgentic_records
    group by partition_id, thread_id
),

airgentic as (
    select
        'airgentic' as vendor,
        t.service_id as partition_key,
        t.thread_id as conversation_key,
        null::text as parent_conversation_id,
        t.started_at,
        t.ended_at,
        'web'::text as channel,
        last.language,
        t.questions::bigint as user_messages,
        t.questions::bigint as bot_messages,
        t.unanswered::bigint as not_understood_messages,
        case
            when last.error_code is not null then 'unresolved'
            when last.completeness = 'Unanswered' then 'unresolved'
            when last.completeness = 'Full' and last.user_rating = 'Good' then 'resolved'
            when last.completeness in ('Full', 'Partial') then 'informed'
            else 'unknown'
        end as outcome,
        nullif(concat_ws('/', last.completeness, last.user_rating,
                         'error:' || last.error_code), '') as outcome_raw,
        null::boolean as escalated,
        null::boolean as ai_handled,
        null::boolean as escalation_failed,
        false as is_assisted,
        t.csat::numeric as csat,
        null::bigint as assist_suggestions_used,
        null::boolean as test_mode,
        null::date as export_day,
        t._loaded_at
    from airgentic_threads as t
    join airgentic_records as last
        on last.partition_id = t.partition_id and last.thread_id = t.thread_id
        and last.newest_first = 1
),

{# ------------------------------------------------------------------- Kore segments #}
kore as (
    select
        'kore' as vendor,
        stream_id as partition_key,
        segment_id as conversation_key,
        conversation_id as parent_conversation_id,
        started_at,
        ended_at,
        channel,
        language,
        null::bigint as user_messages,
        null::bigint as bot_messages,
        null::bigint as not_understood_messages,
        'unknown' as outcome,
        null::text as outcome_raw,
        null::boolean as escalated,
        null::boolean as ai_handled,
        null::boolean as escalation_failed,
        true as is_assisted,
        null::numeric as csat,
        suggestions_used::bigint as assist_suggestions_used,
        null::boolean as test_mode,
        null::date as export_day,
        _loaded_at
    from {{ ref('stg_kore__segments') }}
    {% if is_incremental() %}
    where _loaded_at > {{ convai_high_water('kore') }}
    {% endif %}
),

{# ------------------------------------------------------------ AgentX conversations #}
agentx_changed as (
    select bot_name, conversation_id
    from {{ ref('stg_agentx__conversations') }}
    {% if is_incremental() %}
    where _loaded_at > {{ convai_high_water('agentx') }}
    union
    select bot_name, conversation_id
    from {{ ref('stg_agentx__message_counts') }}
    where _loaded_at > {{ convai_high_water('agentx') }}
    {% endif %}
),

agentx as (
    select
        'agentx' as vendor,
        c.bot_name as partition_key,
        c.conversation_id as conversation_key,
        null::text as parent_conversation_id,
        c.started_at,
        coalesce(greatest(c.last_action_at, m.last_message_at), c.started_at) as ended_at,
        null::text as channel,
        c.locale as language,
        coalesce(m.user_messages, c.user_message_count)::bigint as user_messages,
        m.bot_messages::bigint as bot_messages,
        null::bigint as not_understood_messages,
        case
            when 'escalated' = any(c.tags) then 'escalated'
            when 'resolved' = any(c.tags) then 'resolved'
            when 'informed' = any(c.tags) then 'informed'
            else 'unknown'
        end as outcome,
        nullif(array_to_string(c.tags, ','), '') as outcome_raw,
        ('escalated' = any(c.tags)) as escalated,
        null::boolean as ai_handled,
        null::boolean as escalation_failed,
        false as is_assisted,
        null::numeric as csat,
        null::bigint as assist_suggestions_used,
        null::boolean as test_mode,
        null::date as export_day,
        greatest(c._loaded_at, m._loaded_at) as _loaded_at
    from {{ ref('stg_agentx__conversations') }} as c
    join agentx_changed as changed
        on changed.bot_name = c.bot_name and changed.conversation_id = c.conversation_id
    left join {{ ref('stg_agentx__message_counts') }} as m
        on m.bot_name = c.bot_name and m.conversation_id = c.conversation_id
),

{# ------------------------------------------------------------- Zendesk AI exports #}
zendesk_ai as (
    select
        'zendesk_ai' as vendor,
        bot_id as partition_key,
        conversation_id as conversation_key,
        platform_conversation_id as parent_conversation_id,
        started_at,
        ended_at,
        channel,
        language,
        customer_messages::bigint as user_messages,
        bot_messages::bigint as bot_messages,
        not_understood_messages::bigint as not_understood_messages,
        case
            when conversation_status in ('email', 'agent', 'customEscalation') then 'escalated'
            when conversation_status = 'failedEscalation' then 'unresolved'
            when last_resolution = 'resolved' then 'resolved'
            when last_resolution = 'informed' then 'informed'
            else 'unknown'
        end as outcome,
        nullif(concat_ws('/', conversation_status, last_resolution), '') as outcome_raw,
        -- the export documentation's escalation: status email, agent or customEscalation
        -- (null status: neither escalated nor deflected, as in its SQL)
        conversation_status in ('email', 'agent', 'customEscalation') as escalated,
        conversation_status = 'botHandled' as ai_handled,
        conversation_status = 'failedEscalation' as escalation_failed,
        false as is_assisted,
        case when bsat_score >= 0 then bsat_score end as csat,
        null::bigint as assist_suggestions_used,
        test_mode,
        export_date as export_day,
        _loaded_at
    from {{ ref('stg_zendesk_ai__conversations') }}
    {% if is_incremental() %}
    where _loaded_at > {{ convai_high_water('zendesk_ai') }}
    {% endif %}
),

unioned as (
    select * from airgentic
    union all
    select * from kore
    union all
    select * from agentx
    union all
    select * from zendesk_ai
)

select
    vendor,
    partition_key,
    conversation_key,
    parent_conversation_id,
    -- the UTC day the conversation counts on in convai_daily_metrics
    coalesce(export_day, (coalesce(ended_at, started_at) at time zone 'UTC')::date) as day,
    started_at,
    ended_at,
    channel,
    language,
    user_messages,
    bot_messages,
    not_understood_messages,
    outcome,
    outcome_raw,
    escalated,
    ai_handled,
    escalation_failed,
    is_assisted,
    csat,
    assist_suggestions_used,
    test_mode,
    _loaded_at
from unioned
