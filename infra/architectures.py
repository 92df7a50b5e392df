"""The three routing architectures, each a function from Config to Plan.

Choosing an architecture is choosing one of these functions; everything
downstream reads the Plan and does not branch on the architecture's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from infra import access, monitoring, naming, network, vpn
from infra.api.plan import plan_api
from infra.config import Config
from infra.geo import Region
from infra.kinds import Architecture, ClusterRole, LinkKind
from infra.plan import (
    HEADER_CLOUD,
    HEADER_REGION,
    STANDBY_SUFFIX,
    Cluster,
    Failover,
    Link,
    MirrorFlow,
    NameForwarding,
    Plan,
    Principal,
    Route,
    RoutingContract,
    Topic,
    mirror_mechanism,
    standby_key,
)


def _cluster(cfg: Config, region: Region, role: ClusterRole) -> Cluster:
    return Cluster(region.key, region, role, naming.resource_name(cfg.name_prefix, region))


def _standby_cluster(cfg: Config, region: Region) -> Cluster:
    """Keyed and named apart from a local cluster of the same region, and alike whichever hub is active."""
    return Cluster(
        standby_key(region),
        region,
        ClusterRole.STANDBY,
        naming.resource_name(cfg.name_prefix, region, STANDBY_SUFFIX),
    )


def _links(cfg: Config, clusters: Mapping[str, Cluster], principals: Mapping[str, Principal]) -> dict[str, Link]:
    """Hub and spoke: every other region has one private link to the hub, and one to the standby if any.

    A hub link's tunnels depend on its spoke alone (`vpn.tunnels`); a standby
    link's keep clear of the blocks already used at either of its ends.
    """
    hub, standby = cfg.hub, cfg.standby
    links: dict[str, Link] = {}
    pairs = [(hub, r) for r in cfg.regions.values() if r.key != hub.key]
    if standby is not None:
        pairs += [(standby, r) for r in cfg.regions.values() if r.key not in (hub.key, standby.key)]
    for a, b in pairs:
        key = f"{a.key}<->{b.key}"
        kind = network.link_kind(a.cloud, b.cloud)
        if kind is None:
            continue
        if kind != LinkKind.HA_VPN:
            links[key] = Link(key, a.key, b.key, kind)
            continue
        if a.key == hub.key:
            tunnels = vpn.tunnels(b.key)
        else:
            taken = {vpn.block_of(link) for link in links.values() if {a.key, b.key} & {link.hub, link.spoke}}
            tunnels = vpn.tunnels(key, frozenset(block for block in taken if block is not None))
        links[key] = Link(key, a.key, b.key, kind, tunnels, _name_forwarding(cfg, a, b, clusters, principals))
    return links


def _name_forwarding(
    cfg: Config, a: Region, b: Region, clusters: Mapping[str, Cluster], principals: Mapping[str, Principal]
) -> NameForwarding | None:
    """Forwarding of the GCP end's Managed Kafka names, when the AWS end's principals need them."""
    e = vpn.ends(a, b)
    needed = any(
        g.login is not None
        for p in principals.values()
        if p.home == e.aws.key
        for cluster, g in p.grants.items()
        if clusters[cluster].region.key == e.gcp.key
    )
    if not needed or cfg.gcp_project is None:
        return None
    return NameForwarding(e.aws.key, e.gcp.key, naming.managed_kafka_domain(cfg.gcp_project, e.gcp.name))


def _region_topics(cfg: Config, region: Region) -> dict[str, Topic]:
    return {
        (name := naming.region_topic(e.name, region)): Topic(name, e.name, region.key, e.topic)
        for e in cfg.events.values()
    }


def _all_region_topics(cfg: Config) -> dict[str, Topic]:
    topics: dict[str, Topic] = {}
    for region in cfg.regions.values():
        topics.update(_region_topics(cfg, region))
    return dict(sorted(topics.items()))


def _active(cfg: Config) -> str:
    """The key of the cluster that takes the traffic: the hub's, or the standby's once activeHub says so."""
    return standby_key(cfg.standby) if cfg.standby is not None and cfg.active.key == cfg.standby.key else cfg.hub.key


def _per_region_routing(cfg: Config, consume_cluster: Callable[[Region], str]) -> dict[str, RoutingContract]:
    """Produce to the destination's topic on the active hub; consume one's own topic."""
    produce = {e: {r.key: Route(naming.region_topic(e, r), {}) for r in cfg.regions.values()} for e in cfg.events}
    return {
        r.key: RoutingContract(
            region=r.key,
            produce_cluster=_active(cfg),
            consume_cluster=consume_cluster(r),
            produce=produce,
            consume={e: naming.region_topic(e, r) for e in cfg.events},
            header_filter={},
        )
        for r in cfg.regions.values()
    }


def _with_standby(
    cfg: Config,
    clusters: dict[str, Cluster],
    topics: dict[str, dict[str, Topic]],
    mirrors: dict[str, MirrorFlow],
    routing: dict[str, RoutingContract],
) -> None:
    """Adds the standby hub: every hub topic, copied from the active hub to the other, groups' offsets synced.

    The two hub clusters and their topics are the same whichever is active;
    only the replication's direction and what the contracts name follow
    activeHub. Each contract names the other hub as where to turn when the
    active one is unreachable; a region that reads its own local cluster
    keeps reading it.
    """
    if cfg.standby is None:
        return
    standby = _standby_cluster(cfg, cfg.standby)
    hub = clusters[cfg.hub.key]
    clusters[standby.key] = standby
    topics[standby.key] = dict(topics[hub.key])
    active, passive = (standby, hub) if _active(cfg) == standby.key else (hub, standby)
    key = f"{active.key}->{passive.key}"
    mirrors[key] = MirrorFlow(
        key,
        active.key,
        passive.key,
        tuple(sorted(topics[hub.key])),
        mirror_mechanism(active.region, passive.region),
        sync_group_offsets=True,
    )
    for region, contract in routing.items():
        consume = passive.key if contract.consume_cluster == active.key else contract.consume_cluster
        routing[region] = dataclasses.replace(
            contract, failover=Failover(passive.key, consume, cfg.failover_after_seconds)
        )


def _plan(
    cfg: Config,
    clusters: dict[str, Cluster],
    topics: dict[str, dict[str, Topic]],
    mirrors: dict[str, MirrorFlow],
    routing: dict[str, RoutingContract],
) -> Plan:
    _with_standby(cfg, clusters, topics, mirrors, routing)
    principals = access.principals(cfg, {k: c.region for k, c in clusters.items()}, routing, mirrors)
    links = _links(cfg, clusters, principals)
    plan = Plan(cfg, clusters, topics, mirrors, links, routing, principals, plan_api(cfg.api, cfg.regions))
    alarms, notifications = monitoring.plan_alarms(plan)
    return dataclasses.replace(plan, alarms=alarms, notifications=notifications)


def router_headers(region: Region) -> dict[str, str]:
    return {HEADER_CLOUD: region.cloud, HEADER_REGION: region.name}


def header_routing(cfg: Config) -> Plan:
    """One hub cluster, one topic per event; consumers filter on headers."""
    hub = _cluster(cfg, cfg.hub, ClusterRole.HUB)
    topics = {
        naming.event_topic(e.name): Topic(naming.event_topic(e.name), e.name, None, e.topic)
        for e in cfg.events.values()
    }
    produce = {
        e: {r.key: Route(naming.event_topic(e), router_headers(r)) for r in cfg.regions.values()} for e in cfg.events
    }
    routing = {
        r.key: RoutingContract(
            region=r.key,
            produce_cluster=_active(cfg),
            consume_cluster=_active(cfg),
            produce=produce,
            consume={e: naming.event_topic(e) for e in cfg.events},
            header_filter=router_headers(r),
        )
        for r in cfg.regions.values()
    }
    return _plan(cfg, {hub.key: hub}, {hub.key: topics}, {}, routing)


def topic_per_region(cfg: Config) -> Plan:
    """One hub cluster, one topic per event and destination region."""
    hub = _cluster(cfg, cfg.hub, ClusterRole.HUB)
    routing = _per_region_routing(cfg, lambda r: _active(cfg))
    return _plan(cfg, {hub.key: hub}, {hub.key: _all_region_topics(cfg)}, {}, routing)


def regional_clusters(cfg: Config) -> Plan:
    """Topic per region on the hub, each mirrored from the active hub to its region's own cluster."""
    hub = _cluster(cfg, cfg.hub, ClusterRole.HUB)
    source = _active(cfg)
    source_region = cfg.active
    clusters = {hub.key: hub}
    topics = {hub.key: _all_region_topics(cfg)}
    mirrors: dict[str, MirrorFlow] = {}
    for region in cfg.regions.values():
        if region.key == hub.key:
            continue
        local = _cluster(cfg, region, ClusterRole.LOCAL)
        clusters[local.key] = local
        topics[local.key] = _region_topics(cfg, region)
        # Keyed by its source: re-pointing a flow at the other hub is a new
        # flow (MSK Replicator cannot change its source in place); the local
        # cluster and its topics, which hold the data, stay as they are.
        key = f"{source}->{local.key}"
        mirrors[key] = MirrorFlow(
            key, source, local.key, tuple(sorted(topics[local.key])), mirror_mechanism(source_region, region)
        )
    # The hub's region has no cluster of its own: it reads the active hub.
    routing = _per_region_routing(cfg, lambda r: r.key if r.key != hub.key else source)
    return _plan(cfg, clusters, topics, mirrors, routing)


# The one registry of architectures: config validation, the components and
# the tools all enumerate `Architecture`, and this maps each to its planner.
PLANNERS: dict[Architecture, Callable[[Config], Plan]] = {
    Architecture.HEADER_ROUTING: header_routing,
    Architecture.TOPIC_PER_REGION: topic_per_region,
    Architecture.REGIONAL_CLUSTERS: regional_clusters,
}


def build_plan(cfg: Config) -> Plan:
    return PLANNERS[cfg.architecture](cfg)
