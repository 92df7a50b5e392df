"""The one realization path: walk the Plan, dispatch each item by registry.

Every architecture goes through `realize`; the plan alone decides what is
built. Before anything is registered, `problems` checks that every plan item
has a realization, so a plan the program cannot build fails whole and early.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra.components.base import Access, Context, Monitoring, RealizationError, Realizers, Site
from infra.geo import Region
from infra.plan import Plan


@dataclass(frozen=True)
class Realization:
    """What the walk built, keyed like the plan."""

    networks: Mapping[str, Any]
    sites: Mapping[str, Site]
    links: Mapping[str, pulumi.Resource]
    mirrors: Mapping[str, pulumi.Resource]
    # cloud -> its alarms, notification targets and dashboard.
    monitoring: Mapping[str, Monitoring] = field(default_factory=dict)
    # cloud -> its access control (services' IAM policies, Kafka ACLs).
    access: Mapping[str, Access] = field(default_factory=dict)


def _missing(what: str, key: str, registry: str, kind: str, known: Mapping[str, Any]) -> str:
    registered = ", ".join(sorted(known)) or "none"
    return f"{what} {key}: no {registry} realization for '{kind}' (registered: {registered})"


def problems(plan: Plan, r: Realizers) -> list[str]:
    """Every plan item without a realization, and every cloud's own objections."""
    out: list[str] = []
    per_region: tuple[tuple[str, Mapping[str, object]], ...] = (("provider", r.providers), ("network", r.networks))
    per_cluster: tuple[tuple[str, Mapping[str, object]], ...] = (("cluster", r.clusters), ("topics", r.topics))
    for region in plan.config.regions.values():
        for registry, known in per_region:
            if region.cloud not in known:
                out.append(_missing("region", region.key, registry, region.cloud, known))
    for cluster in plan.clusters.values():
        for registry, known in per_cluster:
            if cluster.region.cloud not in known:
                out.append(_missing("cluster", cluster.key, registry, cluster.region.cloud, known))
    for link in plan.links.values():
        if link.kind not in r.links:
            out.append(_missing("link", link.key, "link", link.kind, r.links))
    for flow in plan.mirrors.values():
        if flow.mechanism not in r.mirrors:
            out.append(_missing("mirror flow", flow.key, "mirror", flow.mechanism, r.mirrors))
    for cloud in sorted({region.cloud for region in plan.config.regions.values()}):
        if cloud in r.checks:
            out.extend(r.checks[cloud](plan))
    return out


def check(plan: Plan, r: Realizers) -> None:
    """Raises RealizationError listing every problem; registers nothing."""
    found = problems(plan, r)
    if found:
        raise RealizationError(plan.config.stack, found)


def realize(plan: Plan, parent: pulumi.Resource, r: Realizers) -> Realization:
    """Networks per cloud, then per cluster its cluster and topics, then links, access, then flows."""
    check(plan, r)
    ctx = Context(plan, parent, lambda c, region: r.providers[region.cloud](c, region))

    networks: dict[str, Any] = {}
    by_cloud: dict[str, list[Region]] = {}
    for region in plan.config.regions.values():
        by_cloud.setdefault(region.cloud, []).append(region)
    for cloud, regions in by_cloud.items():
        networks.update(r.networks[cloud](ctx, regions))

    sites: dict[str, Site] = {}
    for key, planned in plan.clusters.items():
        cloud = planned.region.cloud
        # A region may hold two clusters (a local one and the standby hub): both sit in its network.
        net = networks[planned.region.key]
        cluster = r.clusters[cloud](ctx, planned, net)
        topics = r.topics[cloud](ctx, planned, cluster, plan.topics.get(key, {}))
        sites[key] = Site(planned, net, cluster, topics)

    for key, link in plan.links.items():
        ctx.links[key] = r.links[link.kind](ctx, link, networks[link.hub], networks[link.spoke])
    access = {
        cloud: made
        for cloud, grant in r.access.items()
        if cloud in by_cloud and (made := grant(ctx, sites)) is not None
    }
    mirrors = {
        key: r.mirrors[flow.mechanism](ctx, flow, sites[flow.source], sites[flow.target])
        for key, flow in plan.mirrors.items()
    }
    monitoring = {
        cloud: made
        for cloud, watch in r.monitoring.items()
        if cloud in by_cloud and (made := watch(ctx, sites, mirrors)) is not None
    }
    return Realization(networks, sites, dict(ctx.links), mirrors, monitoring, access)
