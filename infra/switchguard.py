"""Refusing an architecture switch that the engine would only half apply.

Pulumi deletes what a program no longer registers after it has created and
updated everything else, and it stops at the first protected resource it
meets. A switch that drops protected clusters or topics would therefore
delete the unprotected things next to them (mirror flows, their roles and
connectors) and only then fail, leaving regions cut off from the hub. The
program calls `refusal` with what the stack last deployed before it
registers anything, so such a switch fails whole, with the way through.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from infra.architectures import build_plan
from infra.kinds import Architecture
from infra.plan import Plan

# Where the migration procedures live (docs/engine.md, one section per direction).
MIGRATIONS = "docs/engine.md, section 'Switching a protected stack'"


@dataclass(frozen=True)
class Deployed:
    """What the stack's last update left: its architecture and whether it was protected."""

    architecture: str
    protect: bool


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


def refusal(previous: Deployed | None, new: Plan) -> str | None:
    """Why this update must not start, or None.

    Refuses when the stack was or is protected and the plan of its previous
    architecture (with today's config) holds clusters or topics the new plan
    does not: the engine could not delete them, and would have deleted the
    mirror flows feeding the regions before finding out.
    """
    if previous is None or previous.architecture == new.config.architecture:
        return None
    if not (previous.protect or new.config.protect):
        return None
    old = build_plan(replace(new.config, architecture=Architecture(previous.architecture)))
    gone = dropped(old, new)
    if not (gone.clusters or gone.topics):
        return None
    frm, to = previous.architecture, new.config.architecture
    lines = [
        f"stack '{new.config.stack}': switching architecture {frm} -> {to} would delete protected resources, "
        "so nothing was changed:"
    ]
    lines += [f"  - cluster {key} (kept in the cloud, with its data)" for key in gone.clusters]
    lines += [f"  - topic {key} (kept in the cloud, with its data)" for key in gone.topics]
    lines += [f"  - mirror flow {key}: deleted, its region stops receiving through it" for key in gone.mirrors]
    lines.append(
        f"Follow the migration '{frm} -> {to}' in {MIGRATIONS}: move the regions' services as it says, "
        f"then `pulumi up` with protect: false and architecture {frm}, then with architecture {to}, "
        "then with protect: true again."
    )
    return "\n".join(lines)
