"""The Plan: what exists and where, for one validated config.

A Plan is plain data. The Pulumi realization, the local emulator, the routing
contract exported to services, the traffic model and the plan tables are all
read from it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from infra import geo
from infra.api.plan import ApiPlan
from infra.config import Config, TopicSettings
from infra.geo import Region
from infra.kinds import Architecture, ClusterRole, LinkKind, MirrorMechanism

# Header routing: every message names its destination in these two headers.
HEADER_CLOUD = "route-cloud"
HEADER_REGION = "route-region"


@dataclass(frozen=True)
class Cluster:
    key: str
    region: Region
    role: ClusterRole
    name: str


@dataclass(frozen=True)
class Topic:
    name: str
    event: str
    # The region whose services consume it; None for a topic all regions share.
    destination: str | None
    settings: TopicSettings


@dataclass(frozen=True)
class MirrorFlow:
    """Copies `topics` from `source` to `target` with identical names."""

    key: str
    source: str
    target: str
    topics: tuple[str, ...]
    mechanism: MirrorMechanism


@dataclass(frozen=True)
class Link:
    key: str
    hub: str
    spoke: str
    kind: LinkKind


@dataclass(frozen=True)
class Route:
    topic: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class RoutingContract:
    """What one region's services need to know, and nothing more."""

    region: str
    produce_cluster: str
    consume_cluster: str
    # event -> destination region -> where to write.
    produce: Mapping[str, Mapping[str, Route]]
    # event -> topic to read.
    consume: Mapping[str, str]
    # Headers a message must carry to be for this region; empty: take all.
    header_filter: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "produceCluster": self.produce_cluster,
            "consumeCluster": self.consume_cluster,
            "produce": {
                e: {d: {"topic": r.topic, "headers": dict(r.headers)} for d, r in dests.items()}
                for e, dests in self.produce.items()
            },
            "consume": dict(self.consume),
            "headerFilter": dict(self.header_filter),
        }


@dataclass(frozen=True)
class Plan:
    config: Config
    clusters: Mapping[str, Cluster]
    # cluster key -> topic name -> topic
    topics: Mapping[str, Mapping[str, Topic]]
    mirrors: Mapping[str, MirrorFlow]
    links: Mapping[str, Link]
    routing: Mapping[str, RoutingContract]
    # The regional request/response API's entry points; None: the stack has none.
    api: ApiPlan | None = None

    @property
    def architecture(self) -> Architecture:
        return self.config.architecture

    @property
    def hub(self) -> Cluster:
        return self.clusters[self.config.hub.key]


def mirror_mechanism(source: Region, target: Region) -> MirrorMechanism:
    """The managed service that runs a flow, chosen by the two clouds."""
    if target.cloud == geo.GCP:
        return MirrorMechanism.MM2_GCP_CONNECT
    return MirrorMechanism.MSK_REPLICATOR if source.cloud == geo.AWS else MirrorMechanism.MM2_MSK_CONNECT
