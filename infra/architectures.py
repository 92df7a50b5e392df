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
    Cluster,
    Link,
    MirrorFlow,
    NameForwarding,
    Plan,
    Principal,
    Route,
    RoutingContract,
    Topic,
    mirror_mechanism,
)


def _cluster(cfg: Config, region: Region, role: ClusterRole) -> Cluster:
    return Cluster(region.key, region, role, naming.resource_name(cfg.name_prefix, region))


def _links(cfg: Config, clusters: Mapping[str, Cluster], principals: Mapping[str, Principal]) -> dict[str, Link]:
    """Hub and spoke: every other region has one private link to the hub."""
    hub = cfg.hub
    links = {}
    for region in cfg.regions.values():
        if region.key == hub.key:
            continue
        key = f"{hub.key}<->{region.key}"
        kind = network.link_kind(hub.cloud, region.cloud)
        if kind != LinkKind.HA_VPN:
            links[key] = Link(key, hub.key, region.key, kind)
            continue
        links[key] = Link(
            key,
            hub.key,
            region.key,
            kind,
            vpn.tunnels(region.key),
            _name_forwarding(cfg, hub, region, clusters, principals),
        )
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


def _per_region_routing(cfg: Config, consume_cluster: Callable[[Region], str]) -> dict[str, RoutingContract]:
    """Produce to the destination's topic on the hub; consume one's own topic."""
    produce = {e: {r.key: Route(naming.region_topic(e, r), {}) for r in cfg.regions.values()} for e in cfg.events}
    return {
        r.key: RoutingContract(
            region=r.key,
            produce_cluster=cfg.hub.key,
            consume_cluster=consume_cluster(r),
            produce=produce,
            consume={e: naming.region_topic(e, r) for e in cfg.events},
            header_filter={},
        )
        for r in cfg.regions.values()
    }


def _plan(
    cfg: Config,
    clusters: dict[str, Cluster],
    topics: Mapping[str, Mapping[str, Topic]],
    mirrors: dict[str, MirrorFlow],
    routing: dict[str, RoutingContract],
) -> Plan:
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
            produce_cluster=hub.key,
            consume_cluster=hub.key,
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
    routing = _per_region_routing(cfg, lambda r: hub.key)
    return _plan(cfg, {hub.key: hub}, {hub.key: _all_region_topics(cfg)}, {}, routing)


def regional_clusters(cfg: Config) -> Plan:
    """Topic per region on the hub, each mirrored to its region's own cluster."""
    hub = _cluster(cfg, cfg.hub, ClusterRole.HUB)
    clusters = {hub.key: hub}
    topics = {hub.key: _all_region_topics(cfg)}
    mirrors: dict[str, MirrorFlow] = {}
    for region in cfg.regions.values():
        if region.key == hub.key:
            continue
        local = _cluster(cfg, region, ClusterRole.LOCAL)
        clusters[local.key] = local
        topics[local.key] = _region_topics(cfg, region)
        key = f"{hub.key}->{local.key}"
        mirrors[key] = MirrorFlow(
            key, hub.key, local.key, tuple(sorted(topics[local.key])), mirror_mechanism(cfg.hub, region)
        )
    routing = _per_region_routing(cfg, lambda r: r.key)
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
