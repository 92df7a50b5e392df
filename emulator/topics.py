"""The planned topics as the emulator creates them.

The one documented difference from the cloud: every emulated cluster is a
single broker, so a topic's replication factor and min.insync.replicas are
clamped to 1. Partitions, retention and cleanup policy are as planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra.plan import Plan

EMULATED_REPLICAS = 1


@dataclass(frozen=True)
class EmulatedTopic:
    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str]
    # (setting, planned, emulated) for each setting the emulator cannot honour.
    clamped: tuple[tuple[str, str, str], ...]


def emulated_topics(plan: Plan) -> dict[str, dict[str, EmulatedTopic]]:
    """cluster key -> topic name -> the topic as created on that cluster's broker."""
    out: dict[str, dict[str, EmulatedTopic]] = {}
    for cluster, topics in plan.topics.items():
        out[cluster] = {}
        for name, topic in topics.items():
            s = topic.settings
            config = dict(s.kafka_config())
            clamped = []
            if s.replication_factor > EMULATED_REPLICAS:
                clamped.append(("replication.factor", str(s.replication_factor), str(EMULATED_REPLICAS)))
            if s.min_insync_replicas > EMULATED_REPLICAS:
                clamped.append(("min.insync.replicas", str(s.min_insync_replicas), str(EMULATED_REPLICAS)))
                config["min.insync.replicas"] = str(EMULATED_REPLICAS)
            out[cluster][name] = EmulatedTopic(
                name, s.partitions, min(s.replication_factor, EMULATED_REPLICAS), config, tuple(clamped)
            )
    return out


def clamp_note(topics: Mapping[str, Mapping[str, EmulatedTopic]]) -> str | None:
    """One line saying what was clamped, or None when the plan fits one broker."""
    seen = sorted({(s, p, e) for ts in topics.values() for t in ts.values() for s, p, e in t.clamped})
    if not seen:
        return None
    parts = ", ".join(f"{s} {p} -> {e}" for s, p, e in seen)
    return f"note: each emulated cluster is a single broker, so topics get {parts} (the cloud keeps the planned values)"
