{{ config(unique_key=['day', 'vendor', 'partition_key']) }}

{#-
  Per UTC day, vendor and source partition: conversation figures from
  convai_conversations, and AurionAI's own daily aggregates.
  Incremental: for every (vendor, partition) with a conversation loaded after the newest
  one already counted here, every day from its earliest such day (minus
  var convai_metrics_lookback_days) on is recomputed from all its conversations; a day
  in that range that no longer has any conversation gets a row of zero conversations.
  Formulas in docs/models.md.
-#}

{%- set lookback = var('convai_metrics_lookback_days', 3) | int %}

with

{% if is_incremental() %}
changed as (
    select c.vendor, c.partition_key, min(c.day) - {{ lookback }} as from_day
    from {{ ref('convai_conversations') }} as c
    where c._loaded_at > (
        select coalesce(max(t._loaded_at), '-infinity'::timestamptz) from {{ this }} as t
        where t.vendor = c.vendor
    )
    group by c.vendor, c.partition_key
),
{% endif %}

conversations as (
    select c.*
    from {{ ref('convai_conversations') }} as c
    {% if is_incremental() %}
    join changed as ch
        on ch.vendor = c.vendor and ch.partition_key = c.partition_key
        and c.day >= ch.from_day
    {% endif %}
),

aggregated as (
    select
        day,
        vendor,
        partition_key,
        count(*) as conversations,
        count(*) filter (where outcome = 'resolved') as resolved_conversations,
        count(*) filter (where outcome = 'informed') as informed_conversations,
        count(*) filter (where outcome = 'escalated') as escalated_conversations,
        count(*) filter (where outcome = 'unresolved') as unresolved_conversations,
        count(*) filter (where outcome = 'unknown') as unknown_conversations,
        -- vendors with an escalation signal: Zendesk AI (conversation_status), AgentX (tags)
        case when vendor in ('zendesk_ai', 'agentx') then
            {{ convai_ratio('count(*) filter (where escalated = false)', 'count(*)') }}
        end as deflection_rate,
        case when vendor in ('zendesk_ai', 'agentx') then
            {{ convai_ratio('count(*) filter (where escalated = true)', 'count(*)') }}
        end as escalation_rate,
        -- Zendesk AI: conversation_status botHandled / failedEscalation
        case when vendor = 'zendesk_ai' then
            {{ convai_ratio('count(*) filter (where ai_handled)', 'count(*)') }}
        end as ai_handled_rate,
        case when vendor = 'zendesk_ai' then
            {{ convai_ratio('count(*) filter (where escalation_failed)', 'count(*)') }}
        end as failed_escalation_rate,
        -- vendors that report not-understood messages: Zendesk AI, Airgentic
        case when vendor in ('zendesk_ai', 'airgentic') then
            {{ convai_ratio('sum(user_messages) - sum(not_understood_messages)',
                            'sum(user_messages)') }}
        end as understood_rate,
        avg(csat) as csat_avg,
        count(csat) as csat_responses,
        sum(user_messages)::bigint as user_messages,
        sum(bot_messages)::bigint as bot_messages,
        sum(not_understood_messages)::bigint as not_understood_messages,
        case when vendor = 'kore' then
            {{ convai_ratio('count(*) filter (where assist_suggestions_used > 0)', 'count(*)') }}
        end as assist_use_rate,
        sum(assist_suggestions_used)::bigint as assist_suggestions_used,
        count(*) filter (where test_mode) as test_conversations,
        max(_loaded_at) as _loaded_at
    from conversations
    group by day, vendor, partition_key
),

{% if is_incremental() %}
emptied as (
    -- days already here, in a recomputed range, that have no conversation any more
    select t.day, t.vendor, t.partition_key, t._loaded_at
    from {{ this }} as t
    join changed as ch
        on ch.vendor = t.vendor and ch.partition_key = t.partition_key
        and t.day >= ch.from_day
    where not exists (
        select 1 from aggregated as a
        where a.day = t.day and a.vendor = t.vendor and a.partition_key = t.partition_key
    )
),
{% endif %}

aurion as (
    select *
    from {{ ref('stg_aurion__daily') }}
    {% if is_incremental() %}
    where _loaded_at > {{ convai_high_water('aurion') }}
    {% endif %}
)

select
    day, vendor, partition_key, conversations,
    resolved_conversations, informed_conversations, escalated_conversations,
    unresolved_conversations, unknown_conversations,
    deflection_rate, escalation_rate, ai_handled_rate, failed_escalation_rate,
    understood_rate, csat_avg, csat_responses,
    user_messages, bot_messages, not_understood_messages,
    assist_use_rate, assist_suggestions_used, test_conversations,
    null::numeric as aurion_csat_positive_rate,
    null::bigint as aurion_csat_total_responses,
    null::numeric as aurion_help_center_deflection_rate,
    null::bigint as aurion_help_center_views,
    null::bigint as aurion_help_center_helpful,
    null::bigint as aurion_help_center_not_helpful,
    null::bigint as aurion_email_conversations,
    null::bigint as aurion_email_inbound_messages,
    null::bigint as aurion_email_outbound_messages,
    _loaded_at
from aggregated

{% if is_incremental() %}
union all

select
    day, vendor, partition_key, 0,
    0, 0, 0, 0, 0,
    null, null, null, null,
    null, null, 0,
    null, null, null,
    null, null, 0,
    null, null, null, null, null, null, null, null, null,
    _loaded_at
from emptied
{% endif %}

union all

select
    day,
    'aurion',
    'all',
    conversations,
    null, null, null, null, null,
    null, null, null, null, null,
    csat_avg_rating,
    csat_rated_responses,
    null, null, null,
    null, null, null,
    csat_positive_rate,
    csat_total_responses,
    help_center_deflection_rate,
    help_center_views,
    help_center_helpful,
    help_center_not_helpful,
    email_conversations,
    email_inbound_messages,
    email_outbound_messages,
    _loaded_at
from aurion
