-- Daily figures of Kore.ai segments, by the formulas every vendor shares.
{{ convai_daily_figures(ref('int_kore__conversations')) }}
