"""MirrorMaker 2 connector configuration for one mirror flow.

One function, used by every place that runs MirrorMaker 2: GCP Managed Kafka
Connect, MSK Connect and the local emulator's Connect worker. Only the
endpoints (addresses and client security settings) differ between them.

Endpoint values are placed, never formatted, so a caller may pass Pulumi
Outputs (secret SASL settings included) and get back a map of inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.plan import MirrorFlow

SOURCE = "org.apache.kafka.connect.mirror.MirrorSourceConnector"
CHECKPOINT = "org.apache.kafka.connect.mirror.MirrorCheckpointConnector"
IDENTITY = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter"


@dataclass(frozen=True)
class Endpoint:
    """One side of a flow as MirrorMaker 2's clients see it."""

    alias: str
    bootstrap: Any
    # Kafka client properties: security.protocol, sasl.mechanism, sasl.jaas.config ...
    client: Mapping[str, Any] = field(default_factory=dict)


def alias(cluster_key: str) -> str:
    """aws-us-east-1 for aws/us-east-1: MM2 aliases may not contain '/'."""
    return cluster_key.replace("/", "-")


def connector_names(flow: MirrorFlow) -> dict[str, str]:
    """The flow's connectors by role: the source, and the checkpoint one when it syncs group offsets."""
    base = f"mm2-{alias(flow.source)}-to-{alias(flow.target)}"
    names = {"source": f"{base}-source"}
    if flow.sync_group_offsets:
        names["checkpoint"] = f"{base}-checkpoint"
    return names


def connector_configs(
    flow: MirrorFlow,
    source: Endpoint,
    target: Endpoint,
    *,
    tasks_max: int = 3,
    internal_replication_factor: int = 3,
    sync_interval_seconds: int = 10,
) -> dict[str, dict[str, Any]]:
    """The source and checkpoint connectors of `flow`, by connector name.

    - Identity replication: a topic keeps its name on the target, because
      per-region topics flow one way only and services must not care which
      cluster they read.
    - Only the flow's own topics, listed exactly: no regex can pull in another
      region's topics or MirrorMaker's internal ones.
    - Topic settings are not synced: the IaC creates the target topics with
      the planned settings and owns them.
    - Offset syncs live on the target, so MirrorMaker needs no write access to
      the hub; the checkpoint connector translates consumer group offsets and
      commits them on the target, so a consumer that moves from the hub to its
      local cluster resumes where it was, or a little before: translation
      goes back to the last offset sync at or before the group's position, so
      it may read messages again but never skips one (shown on real Kafka by
      tests/emulator/test_emulator_mirroring.py).
    - A flow that does not sync group offsets (`MirrorFlow.sync_group_offsets`)
      has no checkpoint connector.
    - No heartbeat connector: with identity naming the `heartbeats` topic of
      every source would collide on the target; lag is measured on the target.
    """
    names = connector_names(flow)
    common: dict[str, Any] = {
        "source.cluster.alias": source.alias,
        "target.cluster.alias": target.alias,
        "source.cluster.bootstrap.servers": source.bootstrap,
        "target.cluster.bootstrap.servers": target.bootstrap,
        "replication.policy.class": IDENTITY,
        "offset-syncs.topic.location": "target",
        "offset-syncs.topic.replication.factor": str(internal_replication_factor),
        "key.converter": BYTES,
        "value.converter": BYTES,
        "header.converter": BYTES,
    }
    for side, endpoint in (("source", source), ("target", target)):
        for key, value in endpoint.client.items():
            common[f"{side}.cluster.{key}"] = value
    topics = ",".join(flow.topics)
    connectors: dict[str, dict[str, Any]] = {
        names["source"]: {
            **common,
            "name": names["source"],
            "connector.class": SOURCE,
            "tasks.max": str(tasks_max),
            "topics": topics,
            "sync.topic.configs.enabled": "false",
            "sync.topic.acls.enabled": "false",
            "refresh.topics.interval.seconds": "60",
            "emit.offset-syncs.enabled": "true",
            # Translate offsets finely enough for a consumer to resume near
            # where it left off, not at the last sync many messages back.
            "offset.lag.max": "10",
        },
    }
    if "checkpoint" in names:
        connectors[names["checkpoint"]] = {
            **common,
            "name": names["checkpoint"],
            "connector.class": CHECKPOINT,
            "tasks.max": "1",
            "topics": topics,
            "groups": ".*",
            "emit.checkpoints.enabled": "true",
            "emit.checkpoints.interval.seconds": str(sync_interval_seconds),
            "sync.group.offsets.enabled": "true",
            "sync.group.offsets.interval.seconds": str(sync_interval_seconds),
            "checkpoints.topic.replication.factor": str(internal_replication_factor),
            "refresh.groups.interval.seconds": "30",
        }
    return connectors
