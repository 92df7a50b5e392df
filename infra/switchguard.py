"""Refusing an architecture switch (or a standby hub change) that the engine would only half apply.

Pulumi deletes what a program no longer registers after it has created and
updated everything else, and it stops at the first protected resource it
meets. A switch that drops protected clusters or topics would therefore
delete the unprotected things next to them (mirror flows, their roles and
connectors) and only then fail, leaving regions cut off from the hub. The
program calls `refusal` with what the stack last deployed before it
registers anything, so such a switch fails whole, with the way through.

Moving or removing the standby hub drops its cluster and topics the same
way, and is refused alike. Flipping `activeHub` keeps both hubs' clusters
and topics (only flows and contracts are re-pointed) and always passes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infra.architectures import build_plan
from infra.kinds import ActiveHub, Architecture
from infra.plan import Plan

# Where the migration procedures live (docs/engine.md, one section per direction).
MIGRATIONS = "docs/engine.md, section 'Switching a protected stack'"


@dataclass(frozen=True)
class Deployed:
    """What the stack's last update left: its architecture, whether it was protected, and its standby hub."""

    architecture: str
    protect: bool
    # The standby hub's region key and which hub was active; None: no standby.
    standby: str | None = None
    active_hub: str = ActiveHub.HUB.value


@dataclass(frozen=True)
class Dropped:
    """The plan items a switch takes out of the stack."""

    clusters: tuple[str, ...]
    topics: tuple[str, ...]
    mirrors: tuple[str, ...]


def dropped(old: Plan, new: Plan) -> Dropped:
    """Clusters and topics (protected when the stack is) and mirror flows in `old` but not in `new`."""
    topics = tuple(
        f"{cluster}/{name}"
        for cluster, by_name in sorted(old.topics.items())
        for name in sorted(by_name)
        if name not in new.topics.get(cluster, {})
    )
    return Dropped(
        clusters=tuple(sorted(set(old.clusters) - set(new.clusters))),
        topics=topics,
        mirrors=tuple(sorted(set(old.mirrors) - set(new.mirrors))),
    )


def _change(previous: Deployed, new: Plan) -> str:
    """What the update changes, in words: the architecture, the standby hub, or both."""
    cfg = new.config
    parts = []
    if previous.architecture != cfg.architecture:
        parts.append(f"switching architecture {previous.architecture} -> {cfg.architecture}")
    standby = cfg.standby.key if cfg.standby is not None else None
    if previous.standby != standby:
        parts.append(f"moving the standby hub {previous.standby or 'none'} -> {standby or 'none'}")
    return " and ".join(parts)


def refusal(previous: Deployed | None, new: Plan) -> str | None:
    """Why this update must not start, or None.

    Refuses when the stack was or is protected and the plan of its previous
    architecture and standby hub (with today's config) holds clusters or
    topics the new plan does not: the engine could not delete them, and
    would have deleted the mirror flows feeding the regions before finding out.
    """
    if previous is None:
        return None
    cfg = new.config
    standby = cfg.standby.key if cfg.standby is not None else None
    if previous.architecture == cfg.architecture and previous.standby == standby:
        return None
    if not (previous.protect or cfg.protect):
        return None
    old_standby = cfg.regions.get(previous.standby) if previous.standby is not None else None
    old = build_plan(
        replace(
            cfg,
            architecture=Architecture(previous.architecture),
            standby=old_standby,
            active_hub=ActiveHub(previous.active_hub) if old_standby is not None else ActiveHub.HUB,
        )
    )
    gone = dropped(old, new)
    if not (gone.clusters or gone.topics):
        return None
    frm, to = previous.architecture, cfg.architecture
    lines = [f"stack '{cfg.stack}': {_change(previous, new)} would delete protected resources, so nothing was changed:"]
    lines += [f"  - cluster {key} (kept in the cloud, with its data)" for key in gone.clusters]
    lines += [f"  - topic {key} (kept in the cloud, with its data)" for key in gone.topics]
    lines += [f"  - mirror flow {key}: deleted, its region stops receiving through it" for key in gone.mirrors]
    if frm != to:
        lines.append(
            f"Follow the migration '{frm} -> {to}' in {MIGRATIONS}: move the regions' services as it says, "
            f"then `pulumi up` with protect: false and architecture {frm}, then with architecture {to}, "
            "then with protect: true again."
        )
    else:
        lines.append(
            f"A standby hub holds a copy of every hub topic: to retire it, make sure no service uses it "
            f"(activeHub: hub), then `pulumi up` with protect: false and the old standbyHub, then with the new "
            f"one, then with protect: true again ({MIGRATIONS} shows the same three steps)."
        )
    return "\n".join(lines)
