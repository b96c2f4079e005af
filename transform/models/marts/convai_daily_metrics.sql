{{ config(unique_key=['day', 'vendor', 'partition_key']) }}

{#-
  Per UTC day, vendor and source partition: the union of the vendors' int_<vendor>__daily
  figures (a new vendor is one more line in the list), with the rates computed here from
  them. A rate is null where its figure is null: the vendor has no signal for it.
  Incremental: for every (vendor, partition) with a day loaded after the newest one here,
  every day from its earliest such day (minus var convai_metrics_lookback_days) on is
  recomputed; a day in that range that no longer has any conversation gets a row of zero
  conversations. Formulas in docs/models.md.
-#}
{%- set lookback = var('convai_metrics_lookback_days', 3) | int %}
{%- set daily = [
    ref('int_airgentic__daily'),
    ref('int_kore__daily'),
    ref('int_agentx__daily'),
    ref('int_aurion__daily'),
    ref('int_zendesk_ai__daily'),
] %}
{%- set columns = convai_daily_columns() %}
{%- set counted = ['conversations', 'resolved_conversations', 'informed_conversations',
                  'unresolved_conversations', 'unknown_conversations'] %}

with daily as (
    {{ convai_union(daily, columns) }}
),

{% if is_incremental() %}
high_water as (
    select vendor, max(_loaded_at) as loaded from {{ this }} group by vendor
),

changed as (
    select d.vendor, d.partition_key, min(d.day) - {{ lookback }} as from_day
    from daily as d
    left join high_water as h on h.vendor = d.vendor
    where d._loaded_at > coalesce(h.loaded, '-infinity'::timestamptz)
    group by d.vendor, d.partition_key
),

recomputed as (
    select d.*
    from daily as d
    join changed as ch
        on ch.vendor = d.vendor and ch.partition_key = d.partition_key
        and d.day >= ch.from_day
),

figures as (
    select * from recomputed
    union all
    -- days already here, in a recomputed range, that have no conversation any more
    select
        {%- for column in columns %}
        {% if column in ('day', 'vendor', 'partition_key', '_loaded_at') -%} t.{{ column }}
        {%- elif column in counted -%} 0
        {%- else -%} null
        {%- endif %} as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ this }} as t
    join changed as ch
        on ch.vendor = t.vendor and ch.partition_key = t.partition_key
        and t.day >= ch.from_day
    where not exists (
        select 1 from recomputed as r
        where r.day = t.day and r.vendor = t.vendor and r.partition_key = t.partition_key
    )
)
{% else %}
figures as (
    select * from daily
)
{% endif %}

select
    day,
    vendor,
    partition_key,
    conversations,
    resolved_conversations,
    informed_conversations,
    escalated_conversations,
    unresolved_conversations,
    unknown_conversations,
    deflected_conversations,
    ai_handled_conversations,
    failed_escalation_conversations,
    {{ convai_ratio('deflected_conversations', 'conversations') }} as deflection_rate,
    {{ convai_ratio('escalated_conversations', 'conversations') }} as escalation_rate,
    {{ convai_ratio('ai_handled_conversations', 'conversations') }} as ai_handled_rate,
    {{ convai_ratio('failed_escalation_conversations', 'conversations') }}
        as failed_escalation_rate,
    {{ convai_ratio('user_messages - not_understood_messages', 'user_messages') }}
        as understood_rate,
    csat_avg,
    csat_responses,
    user_messages,
    bot_messages,
    not_understood_messages,
    {{ convai_ratio('assist_used_conversations', 'conversations') }} as assist_use_rate,
    assist_used_conversations,
    assist_suggestions_used,
    test_conversations,
    aurion_csat_positive_rate,
    aurion_csat_total_responses,
    aurion_help_center_deflection_rate,
    aurion_help_center_views,
    aurion_help_center_helpful,
    aurion_help_center_not_helpful,
    aurion_email_conversations,
    aurion_email_inbound_messages,
    aurion_email_outbound_messages,
    _loaded_at
from figures
