-- Daily figures of AgentX conversations, by the formulas every vendor shares.
{{ convai_daily_figures(ref('int_agentx__conversations')) }}
