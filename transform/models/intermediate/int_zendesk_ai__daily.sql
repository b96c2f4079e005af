-- Daily figures of Zendesk AI conversations (per bot and export day), by the formulas
-- every vendor shares.
{{ convai_daily_figures(ref('int_zendesk_ai__conversations')) }}
