"""The plan as readable text tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from infra import access, selfmanaged
from infra.alerts import Formula
from infra.api.settings import AwsBackend, GcpBackend
from infra.plan import Plan, RoutingContract


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(values, widths, strict=True)).rstrip()

    out = [title, line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in cells] or ["(none)"]
    return "\n".join(out)


def plan_text(plan: Plan) -> str:
    cfg = plan.config
    standby = plan.standby
    hubs = f"hub {cfg.hub.key}" + (
        f", standby hub {standby.key}, active: {plan.active.key} (activeHub {cfg.active_hub})" if standby else ""
    )
    parts = [
        f"stack {cfg.stack}: architecture {plan.architecture}, {hubs}, "
        f"{len(cfg.regions)} regions, {len(cfg.events)} events",
        table(
            "Regions",
            ["region", "cidr", "hub", "cluster here"],
            [
                (
                    r.key,
                    r.cidr,
                    "yes" if r.key == cfg.hub.key else "standby" if standby and r.key == standby.region.key else "",
                    " ".join(c.name for c in plan.clusters.values() if c.region.key == r.key) or "-",
                )
                for r in cfg.regions.values()
            ],
        ),
        table(
            "Clusters",
            ["cluster", "cloud", "region", "role", "name"],
            [(c.key, c.region.cloud, c.region.name, c.role, c.name) for c in plan.clusters.values()],
        ),
    ]
    for key, topics in plan.topics.items():
        parts.append(
            table(
                f"Topics on {key}",
                ["topic", "event", "for", "partitions", "rf", "min.isr", "retention.ms", "cleanup"],
                [
                    (
                        t.name,
                        t.event,
                        t.destination or "all regions",
                        t.settings.partitions,
                        t.settings.replication_factor,
                        t.settings.min_insync_replicas,
                        t.settings.retention_ms,
                        t.settings.cleanup_policy,
                    )
                    for t in topics.values()
                ],
            )
        )
    parts.append(
        table(
            "Mirror flows",
            ["flow", "mechanism", "group offsets", "topics"],
            [
                (m.key, m.mechanism, "synced" if m.sync_group_offsets else "-", _topics_text(plan, m.source, m.topics))
                for m in plan.mirrors.values()
            ],
        )
    )
    parts.append(
        table(
            "Network links",
            ["link", "kind", "tunnels", "dns forwarding"],
            [
                (
                    link.key,
                    link.kind,
                    len(link.tunnels) or "-",
                    f"{link.name_forwarding.aws_region} -> {link.name_forwarding.domain}"
                    if link.name_forwarding
                    else "-",
                )
                for link in plan.links.values()
            ],
        )
    )
    parts.append(
        table(
            "VPN tunnels",
            ["link", "tunnel", "gcp interface", "aws connection", "aws tunnel", "inside cidr"],
            [
                (link.key, t.index, t.gcp_interface, t.aws_connection, t.aws_tunnel, t.inside_cidr)
                for link in plan.links.values()
                for t in link.tunnels
            ],
        )
    )
    parts.append(
        table(
            "DNS forwarding",
            ["link", "resolvers in", "ask cloud dns in", "domain"],
            [
                (link.key, f.aws_region, f.gcp_region, f.domain)
                for link in plan.links.values()
                if (f := link.name_forwarding) is not None
            ],
        )
    )
    if cfg.self_managed:
        parts.append(
            table(
                "Self-managed regions: what the operator's network must let through (TCP; the stack makes no link)",
                ["region", "from", "to", "ports", "for"],
                [
                    (o.region, o.source, o.destination, " ".join(map(str, o.ports)), o.why)
                    for o in selfmanaged.openings(plan)
                ],
            )
        )
    parts.append(
        table(
            "Principals: who may do what, where",
            ["principal", "runs in", "cluster", "auth", "login", "produce", "consume", "groups"],
            [
                (
                    p.key,
                    p.home,
                    g.cluster,
                    g.auth,
                    g.login or "-",
                    _topics_text(plan, g.cluster, g.produce),
                    _topics_text(plan, g.cluster, g.consume),
                    " ".join(f"{x}*" for x in g.groups) or "-",
                )
                for p in plan.principals.values()
                for g in p.grants.values()
            ],
        )
    )
    readers = access.readers_by_region(plan)
    parts.append(
        table(
            "Who can read each region's messages" + (" (isolation required)" if cfg.require_isolation else ""),
            ["messages for", "isolated", "readable by"],
            [
                (region, "yes" if access.isolated(plan, region, keys) else "NO", " ".join(keys) or "-")
                for region, keys in readers.items()
            ],
        )
    )
    parts.append(
        table(
            "Alarms (multicloud-kafka:alerts.thresholds)",
            ["watches", "alarm", "region", "metric", "fires when", "over", "notifies"],
            [
                (
                    f"{a.subject} {a.owner}",
                    a.key.removeprefix(f"{a.owner}:"),
                    a.region.key,
                    a.metric,
                    f"{a.statistic} {a.comparison} {a.threshold:g}",
                    "each entry" if a.formula == Formula.LOG_MATCH else f"{a.evaluation_periods}x{a.period}s",
                    a.notify,
                )
                for a in plan.alarms.values()
            ],
        )
    )
    parts.append(
        table(
            "Alarm notifications",
            ["target", "topic", "subscribers"],
            [
                (n.key, n.name, " ".join(n.emails) or "none: set multicloud-kafka:alerts.emails")
                for n in plan.notifications.values()
            ],
        )
    )
    if plan.api is not None:
        api = plan.api
        parts.append(
            table(
                f"Regional API: {api.url} (zone {api.zone}, health {api.health_path})",
                ["region", "hostname", "latency region", "backend"],
                [(key, e.hostname, e.latency_region, _backend_text(e.backend)) for key, e in api.endpoints.items()]
                + [(key, "-", "-", "skipped") for key in api.skipped],
            )
        )
    # Producers' routes are usually the same in every region: print each
    # distinct set once, naming the regions it applies to.
    groups: dict[str, tuple[list[str], RoutingContract]] = {}
    for region, rc in plan.routing.items():
        groups.setdefault(repr((rc.produce_cluster, rc.produce)), ([], rc))[0].append(region)
    for regions, rc in groups.values():
        parts.append(
            table(
                f"Where to produce (services in {', '.join(regions)}), on cluster {rc.produce_cluster}",
                ["event", "to", "topic", "headers"],
                [
                    (event, dest, route.topic, " ".join(f"{k}={v}" for k, v in route.headers.items()) or "-")
                    for event, dests in rc.produce.items()
                    for dest, route in dests.items()
                ],
            )
        )
    if standby is not None:
        parts.append(
            table(
                "Failover: where each region turns when the active hub is unreachable",
                ["region", "produce to", "consume from", "after s"],
                [
                    (region, fo.produce_cluster, fo.consume_cluster, f"{fo.after_seconds:g}")
                    for region, rc in plan.routing.items()
                    if (fo := rc.failover) is not None
                ],
            )
        )
    parts.append(
        table(
            "What each region consumes",
            ["region", "cluster", "topics", "header filter"],
            [
                (
                    region,
                    rc.consume_cluster,
                    " ".join(rc.consume.values()),
                    " ".join(f"{k}={v}" for k, v in rc.header_filter.items()) or "none (all)",
                )
                for region, rc in plan.routing.items()
            ],
        )
    )
    return "\n\n".join(parts) + "\n"


def _topics_text(plan: Plan, cluster: str, topics: tuple[str, ...]) -> str:
    """A grant's topics, or "all N" when it covers every topic of the cluster."""
    if not topics:
        return "-"
    if len(topics) > 1 and set(topics) == set(plan.topics.get(cluster, {})):
        return f"all {len(topics)}"
    return " ".join(topics)


def _backend_text(backend: AwsBackend | GcpBackend) -> str:
    if isinstance(backend, AwsBackend):
        return f"{backend.integration_uri} port {backend.port}"
    return f"{len(backend.network_endpoint_groups)} NEG(s) port {backend.port} {backend.protocol}"
