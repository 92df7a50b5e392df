"""A stack's topology as an SVG picture: regions by cloud, clusters, the hub,
mirror flows and network links, drawn from the Plan."""

from __future__ import annotations

from html import escape

from infra import geo
from infra.geo import Region
from infra.kinds import LinkKind
from infra.plan import Plan

BOX_W, BOX_H, GAP, MARGIN, HEAD = 300, 96, 36, 40, 90
COLUMNS = {
    geo.AWS: ("AWS", "#ff9900", "#fff7ea"),
    geo.GCP: ("Google Cloud", "#4285f4", "#eef4fe"),
    geo.SELF_MANAGED: ("Self-managed", "#4b5563", "#f3f4f6"),
}
LINK_STYLE = {
    LinkKind.VPC_PEERING: ("#6b7280", "6 4"),
    LinkKind.SHARED_VPC: ("#9ca3af", "2 4"),
    LinkKind.HA_VPN: ("#7c3aed", "10 5"),
}


def svg(plan: Plan) -> str:
    cfg = plan.config
    clouds = [c for c in geo.KINDS if any(r.cloud == c for r in cfg.regions.values())]
    rows = {c: [r for r in cfg.regions.values() if r.cloud == c] for c in clouds}
    # Put the hub first in its column so every link starts at the top.
    for c in clouds:
        rows[c].sort(key=lambda r: (r.key != cfg.hub.key, r.key))
    col_w = BOX_W + 2 * GAP + 120
    width = MARGIN * 2 + col_w * len(clouds)
    height = HEAD + MARGIN + max(len(v) for v in rows.values()) * (BOX_H + GAP) + 110
    pos: dict[str, tuple[float, float]] = {}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#059669"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        _text(MARGIN, 34, f"{cfg.stack}: {plan.architecture}", 22, "bold"),
        _text(
            MARGIN,
            60,
            f"hub {cfg.hub.key} · {len(cfg.regions)} regions · {len(cfg.events)} events · "
            f"{sum(len(t) for t in plan.topics.values())} topics · {len(plan.mirrors)} mirror flows",
            14,
        ),
    ]
    boxes: list[str] = []
    for i, cloud in enumerate(clouds):
        name, stroke, fill = COLUMNS[cloud]
        x0 = MARGIN + i * col_w
        out.append(
            f'<rect x="{x0}" y="{HEAD - 10}" width="{col_w - 30}" height="{height - HEAD - 90}" '
            f'rx="14" fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        )
        out.append(_text(x0 + 16, HEAD + 16, name, 16, "bold", stroke))
        for j, region in enumerate(rows[cloud]):
            x, y = x0 + GAP + 60, HEAD + 36 + j * (BOX_H + GAP)
            pos[region.key] = (x, y)
            boxes += _region_box(plan, region, x, y)
    # Connectors first, so that the boxes are drawn over their ends.
    for link in plan.links.values():
        color, dash = LINK_STYLE[link.kind]
        out.append(
            f'<path d="{_curve(pos[link.hub], pos[link.spoke], 0.7)}" fill="none" '
            f'stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>'
        )
    for flow in plan.mirrors.values():
        out.append(
            f'<path d="{_curve(pos[plan.clusters[flow.source].region.key], pos[plan.clusters[flow.target].region.key], 0.3)}" fill="none" '
            f'stroke="#059669" stroke-width="2.5" marker-end="url(#arrow)"/>'
        )
    out += boxes
    out += _legend(MARGIN, height - 70)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _curve(a: tuple[float, float], b: tuple[float, float], at: float) -> str:
    """A curve between two boxes, leaving and entering on the facing sides
    (on the left side when both are in one column), `at` of the way down."""
    (ax, ay), (bx, by) = a, b
    ay, by = ay + BOX_H * at, by + BOX_H * at
    if ax == bx:
        bend = 60 if at < 0.5 else 45
        return f"M{ax},{ay} C{ax - bend},{ay} {bx - bend},{by} {bx},{by}"
    if ax < bx:
        x1, x2 = ax + BOX_W, bx
    else:
        x1, x2 = ax, bx + BOX_W
    mid = (x1 + x2) / 2
    return f"M{x1},{ay} C{mid},{ay} {mid},{by} {x2},{by}"


def _region_box(plan: Plan, region: Region, x: float, y: float) -> list[str]:
    cluster = plan.clusters.get(region.key)
    is_hub = region.key == plan.config.hub.key
    standby = plan.standby if plan.standby is not None and plan.standby.region.key == region.key else None
    stroke = "#dc2626" if is_hub or standby else "#374151"
    role = "  (hub)" if is_hub else "  (standby hub)" if standby else ""
    lines = [
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="white" '
        f'stroke="{stroke}" stroke-width="{3 if is_hub or standby else 1.5}"/>',
        _text(x + 12, y + 24, f"{region.name}{role}", 15, "bold", stroke),
        _text(x + 12, y + 44, f"cidr {region.cidr}", 12, color="#4b5563"),
    ]
    if cluster:
        topics = plan.topics[cluster.key]
        # With the standby in the same box, the topic count shares the cluster's line.
        count = f" · {len(topics)} topics" if standby else ""
        lines.append(_text(x + 12, y + 66, f"Kafka {cluster.name}{count}", 12))
    else:
        rc = plan.routing[region.key]
        lines.append(_text(x + 12, y + 66, f"no cluster: services use {rc.consume_cluster}", 12, color="#4b5563"))
    if standby:
        topics = plan.topics[standby.key]
        lines.append(_text(x + 12, y + 84, f"standby {standby.name} · {len(topics)} topics", 12, color="#dc2626"))
    elif cluster:
        lines.append(_text(x + 12, y + 84, f"{len(topics)} topics", 12, color="#4b5563"))
    return lines


def _legend(x: float, y: float) -> list[str]:
    items = [("#dc2626", "", "hub cluster"), ("#059669", "", "mirror flow (hub -> region)")]
    items += [(color, dash, kind) for kind, (color, dash) in LINK_STYLE.items()]
    out = []
    for i, (color, dash, label) in enumerate(items):
        lx = x + (i % 3) * 260
        ly = y + (i // 3) * 24
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 36}" y2="{ly}" stroke="{color}" stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_text(lx + 44, ly + 4, label, 12))
    return out


def _text(x: float, y: float, s: str, size: int, weight: str = "normal", color: str = "#111827") -> str:
    return f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" fill="{color}">{escape(s)}</text>'
