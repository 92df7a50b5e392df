"""Who connects to which cluster, how, and to do what: pure, no Pulumi.

Every region's services are one principal, and every mirror flow another.
Each principal holds one grant per cluster it reaches: the topics it may
produce to and consume from, the consumer groups it may use, and how it
authenticates there. In-cloud principals use the cloud's own identity (IAM
on AWS, the workload's service account on GCP). A principal from the other
cloud has no such identity, so the cluster gets a login for it (a SCRAM user
on MSK, a service account on Managed Kafka): one per foreign region's
services, and one per mirror flow, which runs in its target's region but
never shares the services' login, so each holds only its own grants.
With a standby hub, every region's services hold the same grants on the
other hub as on the active one (their contract's failover section), so they
can fail over without a change of access; the flow between the two hubs is a
mirror principal like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from infra import geo, naming
from infra.config import Config
from infra.kinds import Auth, ClusterRole, PrincipalKind
from infra.plan import Grant, MirrorFlow, Plan, Principal, RoutingContract

# (cluster's cloud, principal's cloud) -> how the principal authenticates.
# A self-managed region's principals have no identity either cloud knows, so
# they get a login on the hub like the other cloud's; on a self-managed
# cluster every principal logs in with SCRAM (Kafka's ACLs authorize it).
AUTH = {
    (geo.AWS, geo.AWS): Auth.AWS_IAM,
    (geo.AWS, geo.GCP): Auth.SCRAM,
    (geo.AWS, geo.SELF_MANAGED): Auth.SCRAM,
    (geo.GCP, geo.GCP): Auth.GCP_IAM,
    (geo.GCP, geo.AWS): Auth.GCP_KEY,
    (geo.GCP, geo.SELF_MANAGED): Auth.GCP_KEY,
    **{(geo.SELF_MANAGED, cloud): Auth.SCRAM for cloud in geo.KINDS},
}
FOREIGN = (Auth.SCRAM, Auth.GCP_KEY)


def services_key(region_key: str) -> str:
    return f"services:{region_key}"


def mirror_key(flow_key: str) -> str:
    return f"mirror:{flow_key}"


def group_prefix(region: geo.Region) -> str:
    """The prefix of every consumer group a region's services may use."""
    return f"{naming.region_slug(region)}."


def scram_username(region: geo.Region) -> str:
    """gcp-europe-west1: the login of one foreign region's services."""
    return naming.region_slug(region)


def mirror_login(flow: MirrorFlow) -> str:
    """mirror-aws-us-east-1-to-gcp-europe-west1: the login of one mirror flow, where it needs one."""
    return f"mirror-{_login_part(flow.source)}-to-{_login_part(flow.target)}"


def _login_part(cluster_key: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", cluster_key.lower()).strip("-")


class _Grants:
    """Accumulates one principal's topics per cluster."""

    def __init__(self, cluster_regions: Mapping[str, geo.Region], home: geo.Region, login: str):
        # `login`: the name the principal logs in with where its cloud's identity does not reach.
        self.clusters, self.home, self.login = cluster_regions, home, login
        self.produce: dict[str, set[str]] = {}
        self.consume: dict[str, set[str]] = {}
        self.groups: dict[str, set[str]] = {}

    def add(
        self, cluster: str, produce: tuple[str, ...] = (), consume: tuple[str, ...] = (), groups: tuple[str, ...] = ()
    ) -> None:
        self.produce.setdefault(cluster, set()).update(produce)
        self.consume.setdefault(cluster, set()).update(consume)
        self.groups.setdefault(cluster, set()).update(groups)

    def grants(self) -> dict[str, Grant]:
        out = {}
        for cluster in sorted(self.produce):
            auth = AUTH[(self.clusters[cluster].cloud, self.home.cloud)]
            out[cluster] = Grant(
                cluster,
                auth,
                self.login if auth in FOREIGN else None,
                tuple(sorted(self.produce[cluster])),
                tuple(sorted(self.consume[cluster])),
                tuple(sorted(self.groups[cluster])),
            )
        return out


def principals(
    cfg: Config,
    cluster_regions: Mapping[str, geo.Region],
    routing: Mapping[str, RoutingContract],
    mirrors: Mapping[str, MirrorFlow],
) -> dict[str, Principal]:
    """Every principal of a plan, from its clusters, routing contracts and mirror flows."""
    out: dict[str, Principal] = {}
    for region_key, contract in routing.items():
        home = cfg.regions[region_key]
        g = _Grants(cluster_regions, home, scram_username(home))
        topics = tuple(route.topic for dests in contract.produce.values() for route in dests.values())
        g.add(contract.produce_cluster, produce=topics)
        g.add(contract.consume_cluster, consume=tuple(contract.consume.values()), groups=(group_prefix(home),))
        if contract.consume_cluster != contract.produce_cluster:
            # A region with its own cluster may still read its own topics on the
            # hub: the topics it read there before a switch to regional-clusters,
            # which it drains while its consumers move (docs/engine.md). No
            # other region's messages are on them.
            g.add(contract.produce_cluster, consume=tuple(contract.consume.values()), groups=(group_prefix(home),))
        if contract.failover is not None:
            g.add(contract.failover.produce_cluster, produce=topics)
            g.add(
                contract.failover.consume_cluster,
                consume=tuple(contract.consume.values()),
                groups=(group_prefix(home),),
            )
        key = services_key(region_key)
        out[key] = Principal(key, PrincipalKind.SERVICES, region_key, g.grants())
    for flow in mirrors.values():
        # Every mechanism runs in its target's region: MSK Replicator and MSK
        # Connect in the target's AWS region, Managed Kafka Connect in its GCP one.
        home = cluster_regions[flow.target]
        g = _Grants(cluster_regions, home, mirror_login(flow))
        g.add(flow.source, consume=flow.topics)
        g.add(flow.target, produce=flow.topics)
        key = mirror_key(flow.key)
        out[key] = Principal(key, PrincipalKind.MIRROR, home.key, g.grants())
    return out


def readers_by_region(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Region key -> sorted keys of the principals that can read the messages sent to that region.

    A message for a region travels on its region's topics, or on an event
    topic every region shares (header routing); whoever may consume such a
    topic on any cluster can read it, whatever header filter its client
    applies. Isolation holds where only the region itself (and the flow that
    mirrors its topics to it) are readers.
    """
    carriers: dict[str, set[str]] = {r: set() for r in plan.config.regions}
    for topics in plan.topics.values():
        for topic in topics.values():
            for region in carriers if topic.destination is None else (topic.destination,):
                carriers[region].add(topic.name)
    return {
        region: tuple(
            sorted(p.key for p in plan.principals.values() if any(set(g.consume) & names for g in p.grants.values()))
        )
        for region, names in carriers.items()
    }


def hub_replication(plan: Plan) -> frozenset[str]:
    """Keys of the principals of flows between the hub and the standby: they copy every region's topics
    onto the other hub, where only each region reads its own, so they read no region's messages for anyone."""
    hubs = {ClusterRole.HUB, ClusterRole.STANDBY}
    return frozenset(
        mirror_key(f.key)
        for f in plan.mirrors.values()
        if plan.clusters[f.source].role in hubs and plan.clusters[f.target].role in hubs
    )


def isolated(plan: Plan, region: str, readers: tuple[str, ...]) -> bool:
    """Whether only the region's own services and mirror flows (and the hubs' replication) read its messages."""
    between_hubs = hub_replication(plan)
    return all(plan.principals[r].home == region or r in between_hubs for r in readers)
