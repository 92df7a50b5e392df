"""The Plan: what exists and where, for one validated config.

A Plan is plain data. The Pulumi realization, the local emulator, the routing
contract exported to services, the traffic model and the plan tables are all
read from it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra import geo, naming
from infra.alerts import Alarm, Notification
from infra.api.plan import ApiPlan
from infra.config import Config, TopicSettings
from infra.geo import Region
from infra.kinds import Architecture, Auth, ClusterRole, LinkKind, MirrorMechanism, PrincipalKind
from infra.vpn import LinkEnds, Tunnel, ends

# Header routing: every message names its destination in these two headers.
HEADER_CLOUD = "route-cloud"
HEADER_REGION = "route-region"


# The suffix of the standby hub's cluster key and names: a region may hold a
# local cluster (regional-clusters) and the standby side by side.
STANDBY_SUFFIX = "standby"


@dataclass(frozen=True)
class Cluster:
    key: str
    region: Region
    role: ClusterRole
    name: str

    @property
    def slug(self) -> str:
        """aws-us-west-2, or aws-us-west-2-standby: the cluster's part of the names of what serves it."""
        region = naming.region_slug(self.region)
        return f"{region}-{STANDBY_SUFFIX}" if self.role == ClusterRole.STANDBY else region


def standby_key(region: Region) -> str:
    """aws/us-west-2/standby: the standby cluster's key, whichever hub is active (keys feed resource names)."""
    return f"{region.key}/{STANDBY_SUFFIX}"


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
    # Consumer groups' committed offsets are translated onto the target, so a
    # consumer moving there resumes where it was (MSK Replicator consumer
    # group replication; MirrorMaker 2 checkpoints with sync.group.offsets).
    sync_group_offsets: bool = True


@dataclass(frozen=True)
class NameForwarding:
    """Resolvers in an AWS region ask Cloud DNS in a GCP region for `domain`.

    Managed Kafka's broker names live in a private zone of the GCP VPC; AWS
    clients of a cluster there resolve them over the link. MSK's names are
    public DNS, so the other direction needs nothing.
    """

    aws_region: str
    gcp_region: str
    domain: str


@dataclass(frozen=True)
class Link:
    key: str
    hub: str
    spoke: str
    kind: LinkKind
    # ha-vpn: the four tunnels with their inside addresses; empty otherwise.
    tunnels: tuple[Tunnel, ...] = ()
    # ha-vpn: set when the AWS end's principals reach a cluster at the GCP end.
    name_forwarding: NameForwarding | None = None


@dataclass(frozen=True)
class Route:
    topic: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Failover:
    """Where a region's services turn when the active hub is unreachable for `after_seconds`."""

    produce_cluster: str
    consume_cluster: str
    after_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "produceCluster": self.produce_cluster,
            "consumeCluster": self.consume_cluster,
            "afterSeconds": self.after_seconds,
        }


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
    # With a standby hub: the other hub's clusters (same topics, same headers).
    failover: Failover | None = None

    def clusters(self) -> set[str]:
        """Keys of every cluster the contract names: where it produces and consumes, and where it fails over."""
        keys = {self.produce_cluster, self.consume_cluster}
        if self.failover is not None:
            keys |= {self.failover.produce_cluster, self.failover.consume_cluster}
        return keys

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "produceCluster": self.produce_cluster,
            "consumeCluster": self.consume_cluster,
            "produce": {
                e: {d: {"topic": r.topic, "headers": dict(r.headers)} for d, r in dests.items()}
                for e, dests in self.produce.items()
            },
            "consume": dict(self.consume),
            "headerFilter": dict(self.header_filter),
        }
        if self.failover is not None:
            out["failover"] = self.failover.to_dict()
        return out


@dataclass(frozen=True)
class Grant:
    """What one principal may do on one cluster, and how it logs in there."""

    cluster: str
    auth: Auth
    # The login (SCRAM user, or service account with key) the principal uses
    # on this cluster; None when it uses its own cloud's identity.
    login: str | None
    produce: tuple[str, ...] = ()
    consume: tuple[str, ...] = ()
    # Consumer-group name prefixes the principal may join.
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Principal:
    key: str
    kind: PrincipalKind
    # The region the principal runs in.
    home: str
    # cluster key -> grant
    grants: Mapping[str, Grant]


@dataclass(frozen=True)
class Plan:
    config: Config
    clusters: Mapping[str, Cluster]
    # cluster key -> topic name -> topic
    topics: Mapping[str, Mapping[str, Topic]]
    mirrors: Mapping[str, MirrorFlow]
    links: Mapping[str, Link]
    routing: Mapping[str, RoutingContract]
    # principal key -> who connects to which cluster, how, to do what.
    principals: Mapping[str, Principal]
    # The regional request/response API's entry points; None: the stack has none.
    api: ApiPlan | None = None
    # alarm key -> what watches the clusters and mirror flows, and where it notifies.
    alarms: Mapping[str, Alarm] = field(default_factory=dict)
    # notification key -> where alarms go (infra.monitoring).
    notifications: Mapping[str, Notification] = field(default_factory=dict)

    @property
    def architecture(self) -> Architecture:
        return self.config.architecture

    @property
    def hub(self) -> Cluster:
        return self.clusters[self.config.hub.key]

    @property
    def standby(self) -> Cluster | None:
        """The standby hub's cluster; None: the stack has none."""
        s = self.config.standby
        return None if s is None else self.clusters[standby_key(s)]

    @property
    def active(self) -> Cluster:
        """The hub cluster that takes the traffic (`multicloud-kafka:activeHub`)."""
        standby = self.standby
        return standby if standby is not None and self.config.active.key == standby.region.key else self.hub

    @property
    def gcp_inbound_dns(self) -> bool:
        """Whether the GCP network must answer DNS queries arriving over a VPN."""
        return any(link.name_forwarding is not None for link in self.links.values())

    def ends(self, link: Link) -> LinkEnds:
        """The AWS and the GCP region of a cross-cloud link."""
        return ends(self.config.regions[link.hub], self.config.regions[link.spoke])

    def path(self, a: str, b: str) -> tuple[str, ...]:
        """Keys of the links between regions `a` and `b`: their own link, else each one's link to the hub."""
        for key in (f"{a}<->{b}", f"{b}<->{a}"):
            if key in self.links:
                return (key,)
        hub = self.config.hub.key
        return tuple(key for x in dict.fromkeys((a, b)) if x != hub and (key := f"{hub}<->{x}") in self.links)

    def flow_name(self, flow: MirrorFlow) -> str:
        """mck-prod-aws-us-east-1-to-aws-us-west-2-standby: the base name of what runs a flow."""
        source, target = self.clusters[flow.source], self.clusters[flow.target]
        return f"{self.config.name_prefix}-{source.slug}-to-{target.slug}"

    def logins(self, cluster: str) -> tuple[str, ...]:
        """Sorted names of the logins `cluster` must have: one per principal from the other cloud."""
        return tuple(
            sorted({g.login for p in self.principals.values() for k, g in p.grants.items() if k == cluster and g.login})
        )


def mirror_mechanism(source: Region, target: Region) -> MirrorMechanism:
    """The managed service that runs a flow, chosen by the two clouds; the operator's MirrorMaker 2 into a
    self-managed cluster, which no managed service of either cloud is sure to reach (docs/adr/0009)."""
    if geo.is_self_managed(target):
        return MirrorMechanism.MM2_OPERATOR
    if target.cloud == geo.GCP:
        return MirrorMechanism.MM2_GCP_CONNECT
    return MirrorMechanism.MSK_REPLICATOR if source.cloud == geo.AWS else MirrorMechanism.MM2_MSK_CONNECT
