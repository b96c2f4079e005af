{#- Helpers shared by the models of tap-convai. -#}

{#- A `timestamp without time zone` as target-postgres writes it (UTC wall time) as a
    timestamptz. -#}
{% macro convai_utc(column) -%}
  ({{ column }}::timestamp at time zone 'UTC')
{%- endmacro %}

{#- numerator / denominator as a fraction, null when the denominator is 0 or null. -#}
{% macro convai_ratio(numerator, denominator) -%}
  (({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}

{#- The newest `_loaded_at` of one vendor already in this incremental model. -#}
{% macro convai_high_water(vendor) -%}
  (select coalesce(max(_loaded_at), '-infinity'::timestamptz) from {{ this }}
   where vendor = '{{ vendor }}')
{%- endmacro %}
