-- Daily figures of Airgentic threads, by the formulas every vendor shares.
{{ convai_daily_figures(ref('int_airgentic__conversations')) }}
