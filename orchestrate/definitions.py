"""The Dagster code location: `dagster dev -m orchestrate.definitions` (from the project).

The plan comes from CONVAI_SHARD_PLAN (a JSON plan file) or from the Meltano project's
tap config (environment MELTANO_ENVIRONMENT) split into CONVAI_SHARDS shards.
"""

from __future__ import annotations

from dagster import Definitions, definitions

from orchestrate.assets import definitions_from_env


@definitions
def defs() -> Definitions:
    return definitions_from_env()
