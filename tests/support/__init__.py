"""Real parts the tests and the demo run against: PostgreSQL, Meltano, the tap CLI."""
