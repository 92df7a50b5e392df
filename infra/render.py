"""The plan as readable text tables."""

from __future__ import annotations

from typing import Iterable, Sequence

from infra.plan import Plan


def table(title: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    out = [title, line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows] or ["(none)"]
    return "\n".join(out)


def plan_text(plan: Plan) -> str:
    cfg = plan.config
    parts = [
        f"stack {cfg.stack}: architecture {plan.architecture}, hub {cfg.hub.key}, "
        f"{len(cfg.regions)} regions, {len(cfg.events)} events",
        table(
            "Regions",
            ["region", "cidr", "hub", "cluster here"],
            [
                (r.key, r.cidr, "yes" if r.key == cfg.hub.key else "",
                 plan.clusters[r.key].name if r.key in plan.clusters else "-")
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
                    (t.name, t.event, t.destination or "all regions", t.settings.partitions,
                     t.settings.replication_factor, t.settings.min_insync_replicas,
                     t.settings.retention_ms, t.settings.cleanup_policy)
                    for t in topics.values()
                ],
            )
        )
    parts.append(
        table(
            "Mirror flows",
            ["flow", "mechanism", "topics"],
            [(m.key, m.mechanism, " ".join(m.topics)) for m in plan.mirrors.values()],
        )
    )
    parts.append(
        table("Network links", ["link", "kind"], [(l.key, l.kind) for l in plan.links.values()])
    )
    # Producers' routes are usually the same in every region: print each
    # distinct set once, naming the regions it applies to.
    groups: dict[str, tuple[list[str], object]] = {}
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
    parts.append(
        table(
            "What each region consumes",
            ["region", "cluster", "topics", "header filter"],
            [
                (region, rc.consume_cluster, " ".join(rc.consume.values()),
                 " ".join(f"{k}={v}" for k, v in rc.header_filter.items()) or "none (all)")
                for region, rc in plan.routing.items()
            ],
        )
    )
    return "\n\n".join(parts) + "\n"
