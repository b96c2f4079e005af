{{ config(unique_key=['vendor', 'conversation_key']) }}

{#-
  One row per conversation of every vendor that exports conversations: the union of the
  vendors' int_<vendor>__conversations models (each knows its vendor's rules; this model
  knows none). A new vendor is one more line in the list.
  Incremental: a run takes the conversations whose _loaded_at (the newest _sdc_batched_at
  of the rows they are built from) is after the newest this model holds for their vendor;
  a conversation made of several rows is rebuilt from all of them.
-#}
{%- set conversations = [
    ref('int_airgentic__conversations'),
    ref('int_kore__conversations'),
    ref('int_agentx__conversations'),
    ref('int_zendesk_ai__conversations'),
] %}

with conversations as (
    {{ convai_union(conversations, convai_conversation_columns()) }}
)

{% if is_incremental() -%}
, high_water as (
    select vendor, max(_loaded_at) as loaded from {{ this }} group by vendor
)
{%- endif %}

select c.*
from conversations as c
{% if is_incremental() -%}
left join high_water as h on h.vendor = c.vendor
where c._loaded_at > coalesce(h.loaded, '-infinity'::timestamptz)
{%- endif %}
