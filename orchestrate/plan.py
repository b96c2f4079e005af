"""The shard plan: every partition of every vendor assigned to one of N shards.

A shard is one `meltano run tap-convai target-postgres` with its own partition lists, its
own state id suffix and its share of each vendor credential's rate limit.

Assignment is rendezvous hashing: a partition goes to the shard with the highest
hash(partition, shard). It depends only on the partition and N, so adding or removing a
bot moves no other bot to another shard (a moved partition would start again from
`start_date` in its new shard, since bookmarks live in each shard's own state).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "TAP_CONVAI"


@dataclass(frozen=True)
class Vendor:
    """What the orchestrator needs to know of one vendor's settings block."""

    name: str
    streams: tuple[str, ...]
    #: the setting that lists the partitions (None: the vendor is one partition)
    partition_setting: str | None = None
    #: the setting is an array (else one value: one partition per config)
    partition_is_list: bool = True
    #: the pacing setting of the credential, and the vendor's documented limit in its unit
    rate_setting: str | None = None
    default_rate_limit: int | None = None


def _from_registry() -> dict[str, Vendor]:
    """What the orchestrator needs, read from the tap's vendor registry: a new vendor of
    the tap is sharded without a change here."""
    from tap_convai.tap import VENDORS as TAP_VENDORS

    out = {}
    for vendor in TAP_VENDORS:
        properties = vendor.settings.to_dict()["properties"]
        partition = next(iter({s.partition_setting for s in vendor.streams} - {None}), None)
        rate = next((name for name in properties if name.startswith("requests_per_")), None)
        kind = properties[partition].get("type") if partition else None
        out[vendor.key] = Vendor(
            vendor.key, tuple(s.name for s in vendor.streams), partition,
            partition_is_list=kind is None or "array" in kind,
            rate_setting=rate,
            default_rate_limit=int(properties[rate]["default"]) if rate else None,
        )
    return out


VENDORS: dict[str, Vendor] = _from_registry()


def setting_env(vendor: str, setting: str) -> str:
    """The environment variable Meltano reads a nested tap setting from."""
    return f"{ENV_PREFIX}_{vendor.upper()}_{setting.upper()}"


def _score(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def divide(limit: int, weights: Sequence[int]) -> list[int]:
    """`limit` split into whole shares of at least 1, proportional to `weights` (largest
    remainder); the shares add up to `limit` exactly. Needs len(weights) <= limit."""
    if not 0 < len(weights) <= limit:
        raise ValueError(f"cannot divide {limit} into {len(weights)} shares of at least 1")
    total = sum(weights)
    ideal = [limit * w / total for w in weights]
    shares = [max(1, int(x)) for x in ideal]
    while sum(shares) < limit:  # the largest shortfall gets the next unit
        i = max(range(len(shares)), key=lambda j: ideal[j] - shares[j])
        shares[i] += 1
    while sum(shares) > limit:  # the minimum of 1 overdrew: take from the largest excess
        i = max((j for j in range(len(shares)) if shares[j] > 1),
                key=lambda j: shares[j] - ideal[j])
        shares[i] -= 1
    return shares


@dataclass(frozen=True)
class Shard:
    """One `meltano run`: its partitions per vendor and its share of rate limits."""

    index: int
    partitions: Mapping[str, tuple[str, ...]]
    #: vendor -> this shard's share of the credential's limit (only where it is divided)
    rate_shares: Mapping[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The state id suffix and the Dagster asset name."""
        return f"shard_{self.index}"

    @property
    def streams(self) -> list[str]:
        return [s for vendor in self.partitions for s in VENDORS[vendor].streams]

    def env(self) -> dict[str, str]:
        """Environment variables that narrow `meltano run` to this shard.

        `<TAP>__SELECT_FILTER` keeps the project's own `select` and narrows it to this
        shard's vendors; the partition settings replace the project's lists.
        """
        env = {f"{ENV_PREFIX}__SELECT_FILTER": json.dumps(self.streams)}
        for vendor, values in self.partitions.items():
            spec = VENDORS[vendor]
            if spec.partition_setting is not None:
                value = json.dumps(list(values)) if spec.partition_is_list else values[0]
                env[setting_env(vendor, spec.partition_setting)] = value
        for vendor, share in self.rate_shares.items():
            rate_setting = VENDORS[vendor].rate_setting
            assert rate_setting is not None
            env[setting_env(vendor, rate_setting)] = str(share)
        return env

    def describe(self) -> dict[str, Any]:
        """Partitions and rate shares, for Dagster metadata (no secrets)."""
        return {
            "partitions": {v: list(p) for v, p in self.partitions.items()},
            "rate_shares": dict(self.rate_shares),
        }


@dataclass(frozen=True)
class ShardPlan:
    """Partitions per vendor, the number of shards and each credential's rate limit.

    `partitions`: vendor -> partition ids (AurionAI is one partition: `[""]`; Kore takes
    exactly one stream id, as its tap config does).
    `rate_limits`: vendor -> the credential's limit in the unit of its pacing setting
    (AgentX requests per second per endpoint, Kore requests per minute); defaults to the
    documented limits.
    """

    partitions: Mapping[str, Sequence[str]]
    shards: int = 4
    rate_limits: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ValueError("shards must be at least 1")
        for vendor, values in self.partitions.items():
            if vendor not in VENDORS:
                raise ValueError(f"unknown vendor {vendor!r}; one of {', '.join(VENDORS)}")
            spec = VENDORS[vendor]
            if not spec.partition_is_list and len(values) > 1:
                raise ValueError(
                    f"{vendor}: one {spec.partition_setting} per tap config; got {len(values)}"
                )
            if len(set(values)) != len(values):
                raise ValueError(f"{vendor}: duplicate partitions")
        for vendor, limit in self.rate_limits.items():
            if VENDORS.get(vendor) is None or VENDORS[vendor].rate_setting is None:
                raise ValueError(f"{vendor}: no rate limit to divide")
            if limit < 1:
                raise ValueError(f"{vendor}: rate limit must be at least 1")

    def rate_limit(self, vendor: str) -> int | None:
        return self.rate_limits.get(vendor, VENDORS[vendor].default_rate_limit)

    def candidate_shards(self, vendor: str) -> list[int]:
        """The shards a vendor's partitions may go to.

        A credential with a limit of L (whole requests per second or minute) is divided
        into shares of at least 1, so its partitions go to at most L shards.
        """
        ranked = sorted(range(self.shards), key=lambda i: _score(vendor, "shard", i),
                        reverse=True)
        limit = self.rate_limit(vendor)
        return ranked[: min(self.shards, limit)] if limit else ranked

    def assign(self) -> dict[str, dict[str, int]]:
        """vendor -> partition -> shard index."""
        out: dict[str, dict[str, int]] = {}
        for vendor, values in self.partitions.items():
            if not values:
                continue
            candidates = self.candidate_shards(vendor)
            out[vendor] = {
                p: max(candidates, key=lambda i, p=p: _score(vendor, p, i)) for p in values
            }
        return out

    def plan(self) -> list[Shard]:
        """The non-empty shards, by index, each with its partitions and rate shares."""
        per_shard: dict[int, dict[str, list[str]]] = {}
        for vendor, placed in self.assign().items():
            for partition in self.partitions[vendor]:
                per_shard.setdefault(placed[partition], {}).setdefault(vendor, []).append(
                    partition
                )
        holders: dict[str, list[int]] = {}
        for index in sorted(per_shard):
            for vendor in per_shard[index]:
                holders.setdefault(vendor, []).append(index)
        shares: dict[int, dict[str, int]] = {}
        for vendor, indexes in holders.items():
            limit = self.rate_limit(vendor)
            if not limit or len(indexes) < 2:
                continue  # one shard holds the credential: it keeps the configured pace
            counts = [len(per_shard[i][vendor]) for i in indexes]
            for index, share in zip(indexes, divide(limit, counts), strict=True):
                shares.setdefault(index, {})[vendor] = share
        return [
            Shard(
                index=index,
                partitions={v: tuple(p) for v, p in sorted(per_shard[index].items())},
                rate_shares=shares.get(index, {}),
            )
            for index in sorted(per_shard)
        ]

    @classmethod
    def from_tap_config(
        cls, config: Mapping[str, Any], shards: int, rate_limits: Mapping[str, int] | None = None
    ) -> ShardPlan:
        """A plan from a tap config (nested vendor blocks): every enabled vendor's partitions.

        A vendor's configured pacing setting, if any, is the limit divided.
        """
        partitions: dict[str, list[str]] = {}
        limits: dict[str, int] = {}
        for vendor, spec in VENDORS.items():
            block = config.get(vendor)
            if not isinstance(block, Mapping) or not block:
                continue
            if spec.partition_setting is None:
                partitions[vendor] = [""]
            else:
                value = block.get(spec.partition_setting)
                if isinstance(value, str) and spec.partition_is_list:
                    value = json.loads(value)
                if not value:
                    continue
                partitions[vendor] = list(value) if spec.partition_is_list else [str(value)]
            if spec.rate_setting and block.get(spec.rate_setting):
                limits[vendor] = int(block[spec.rate_setting])
        return cls(partitions=partitions, shards=shards, rate_limits={**limits,
                                                                      **(rate_limits or {})})
