-- One row per AurionAI daily insights window (UTC day): the vendor's own aggregates.
-- Its documented response counts no conversations (`metadata` is {}).
select
    ({{ convai_utc('window_start') }} at time zone 'UTC')::date as day,
    {{ convai_utc('window_start') }} as window_start,
    {{ convai_utc('window_end') }} as window_end,
    (csat ->> 'avg_rating')::numeric as csat_avg_rating,
    (csat ->> 'positive_rate')::numeric as csat_positive_rate,
    (csat ->> 'positive_responses')::bigint as csat_positive_responses,
    (csat ->> 'rated_responses')::bigint as csat_rated_responses,
    (csat ->> 'total_responses')::bigint as csat_total_responses,
    (help_center_deflection ->> 'deflection_rate')::numeric as help_center_deflection_rate,
    (help_center_deflection ->> 'total_views')::bigint as help_center_views,
    (help_center_deflection ->> 'helpful_feedback')::bigint as help_center_helpful,
    (help_center_deflection ->> 'not_helpful_feedback')::bigint as help_center_not_helpful,
    (help_center_deflection ->> 'article_count')::bigint as help_center_articles,
    (email_channel_metrics ->> 'email_conversations')::bigint as email_conversations,
    (email_channel_metrics ->> 'inbound_messages')::bigint as email_inbound_messages,
    (email_channel_metrics ->> 'outbound_messages')::bigint as email_outbound_messages,
    {{ convai_utc('_sdc_batched_at') }} as _loaded_at
from {{ source('convai', 'aurion_insights') }}
where _sdc_deleted_at is null
