"""Scale-out of tap-convai on Dagster: one `meltano run` per shard (see docs/scale-out.md)."""
