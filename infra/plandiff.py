"""What a config change does to the plan, and which of it puts data at risk.

Pulumi's preview shows resource changes once credentials are at hand; this
shows the same decision in the plan's own terms, offline and before review:
which clusters and topics appear or disappear, and which changes would
replace a cluster or drop data (a topic removed, fewer partitions, shorter
retention, a network renumbered, a renamed prefix).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.config import TopicSettings
from infra.plan import Grant, Plan

ADD, REMOVE, CHANGE = "add", "remove", "change"


@dataclass(frozen=True)
class Change:
    action: str
    what: str
    key: str
    detail: str
    # True when applying it could lose data or replace a cluster holding data.
    at_risk: bool


def diff(old: Plan, new: Plan) -> list[Change]:
    out: list[Change] = []
    oc, nc = old.config, new.config
    if oc.name_prefix != nc.name_prefix:
        out.append(
            Change(
                CHANGE,
                "namePrefix",
                nc.stack,
                f"{oc.name_prefix} -> {nc.name_prefix}: every cluster gets a new name, which replaces it",
                True,
            )
        )
    if oc.architecture != nc.architecture:
        out.append(Change(CHANGE, "architecture", nc.stack, f"{oc.architecture} -> {nc.architecture}", False))
    if oc.hub.key != nc.hub.key:
        out.append(
            Change(
                CHANGE,
                "hub",
                nc.stack,
                f"{oc.hub.key} -> {nc.hub.key}: producers move to another "
                "cluster; drain the old hub before removing it",
                True,
            )
        )
    out.extend(_standby_changes(old, new))
    for key, region in oc.regions.items():
        if key in nc.regions and nc.regions[key].cidr != region.cidr:
            out.append(
                Change(
                    CHANGE,
                    "network",
                    key,
                    f"cidr {region.cidr} -> {nc.regions[key].cidr}: the network and every cluster in it are replaced",
                    True,
                )
            )
    for key in sorted(set(old.clusters) | set(new.clusters)):
        if key not in new.clusters:
            out.append(Change(REMOVE, "cluster", key, "its topics and their data go with it", True))
        elif key not in old.clusters:
            out.append(Change(ADD, "cluster", key, new.clusters[key].role, False))
    for cluster in sorted(set(old.topics) | set(new.topics)):
        before, after = old.topics.get(cluster, {}), new.topics.get(cluster, {})
        for name in sorted(set(before) | set(after)):
            where = f"{cluster} {name}"
            if name not in after:
                out.append(
                    Change(
                        REMOVE,
                        "topic",
                        where,
                        "holds data: it is kept (retained) but no longer "
                        "managed; protected stacks refuse until you unprotect it",
                        True,
                    )
                )
            elif name not in before:
                out.append(Change(ADD, "topic", where, f"{after[name].settings.partitions} partitions", False))
            else:
                out.extend(_topic_changes(where, before[name].settings, after[name].settings))
    for kind, a, b in (("mirror flow", old.mirrors, new.mirrors), ("link", old.links, new.links)):
        for key in sorted(set(a) - set(b)):
            out.append(Change(REMOVE, kind, key, "", False))
        for key in sorted(set(b) - set(a)):
            out.append(Change(ADD, kind, key, "", False))
    out.extend(_link_changes(old, new))
    out.extend(_routing_changes(old, new))
    out.extend(_access_changes(old, new))
    out.extend(_api_changes(old, new))
    return out


def _standby_changes(old: Plan, new: Plan) -> list[Change]:
    """The standby hub added, moved or removed; the active hub flipped."""
    out = []
    a, b = old.config.standby, new.config.standby
    if (a and a.key) != (b and b.key):
        gone = f": the standby cluster in {a.key} goes, with the copies of every hub topic" if a else ""
        out.append(
            Change(
                CHANGE,
                "standbyHub",
                new.config.stack,
                f"{a.key if a else 'none'} -> {b.key if b else 'none'}{gone}",
                a is not None,
            )
        )
    if old.active.key != new.active.key:
        out.append(
            Change(
                CHANGE,
                "activeHub",
                new.config.stack,
                f"{old.config.active_hub} -> {new.config.active_hub}: producers move from {old.active.key} to "
                f"{new.active.key}, replication reverses and the flows feeding the regions follow; "
                "both hubs keep their topics",
                False,
            )
        )
    return out


def _routing_changes(old: Plan, new: Plan) -> list[Change]:
    """Where each region's services produce, consume and fail over: what a change re-points."""
    out = []
    for key in sorted(set(old.routing) & set(new.routing)):
        a, b = old.routing[key], new.routing[key]
        moved = [
            f"{what} {x or 'none'} -> {y or 'none'}"
            for what, x, y in (
                ("produce", a.produce_cluster, b.produce_cluster),
                ("consume", a.consume_cluster, b.consume_cluster),
                (
                    "failover produce",
                    a.failover and a.failover.produce_cluster,
                    b.failover and b.failover.produce_cluster,
                ),
                (
                    "failover consume",
                    a.failover and a.failover.consume_cluster,
                    b.failover and b.failover.consume_cluster,
                ),
            )
            if x != y
        ]
        if moved:
            out.append(Change(CHANGE, "routing", key, "; ".join(moved), False))
    return out


def _link_changes(old: Plan, new: Plan) -> list[Change]:
    out = []
    for key in sorted(set(old.links) & set(new.links)):
        a, b = old.links[key], new.links[key]
        if a.tunnels != b.tunnels:
            out.append(
                Change(
                    CHANGE,
                    "link",
                    key,
                    "tunnel inside addresses change: the VPN connections are replaced and the link is down meanwhile",
                    False,
                )
            )
        if a.name_forwarding != b.name_forwarding:
            detail = f"DNS forwarding {'on: ' + b.name_forwarding.domain if b.name_forwarding else 'off'}"
            out.append(Change(CHANGE, "link", key, detail, False))
    return out


def _grants_text(grant: Grant) -> str:
    return (
        f"{grant.auth}{' as ' + grant.login if grant.login else ''}: produce {len(grant.produce)}, "
        f"consume {len(grant.consume)} topics"
    )


def _access_changes(old: Plan, new: Plan) -> list[Change]:
    out = []
    for key in sorted(set(old.principals) | set(new.principals)):
        a = old.principals[key].grants if key in old.principals else {}
        b = new.principals[key].grants if key in new.principals else {}
        for cluster in sorted(set(a) | set(b)):
            where = f"{key} on {cluster}"
            if cluster not in b:
                out.append(Change(REMOVE, "access", where, _grants_text(a[cluster]), False))
            elif cluster not in a:
                out.append(Change(ADD, "access", where, _grants_text(b[cluster]), False))
            elif a[cluster] != b[cluster]:
                out.append(
                    Change(CHANGE, "access", where, f"{_grants_text(a[cluster])} -> {_grants_text(b[cluster])}", False)
                )
    return out


def _api_changes(old: Plan, new: Plan) -> list[Change]:
    a = old.api.endpoints if old.api else {}
    b = new.api.endpoints if new.api else {}
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            out.append(Change(REMOVE, "api entry point", key, a[key].hostname, False))
        elif key not in a:
            out.append(Change(ADD, "api entry point", key, b[key].hostname, False))
        elif a[key] != b[key]:
            out.append(Change(CHANGE, "api entry point", key, f"{a[key].hostname} -> {b[key].hostname}", False))
    return out


def _topic_changes(where: str, a: TopicSettings, b: TopicSettings) -> list[Change]:
    out = []
    if b.partitions < a.partitions:
        out.append(
            Change(
                CHANGE,
                "topic",
                where,
                f"partitions {a.partitions} -> {b.partitions}: Kafka cannot "
                "remove partitions, so the topic would be recreated empty",
                True,
            )
        )
    elif b.partitions > a.partitions:
        out.append(
            Change(
                CHANGE,
                "topic",
                where,
                f"partitions {a.partitions} -> {b.partitions}: keys move to "
                "other partitions, so per-key order breaks across the change",
                False,
            )
        )
    if b.replication_factor != a.replication_factor:
        out.append(
            Change(
                CHANGE,
                "topic",
                where,
                f"replication factor {a.replication_factor} -> {b.replication_factor}: the topic would be recreated",
                True,
            )
        )
    shorter = b.retention_ms != -1 and (a.retention_ms == -1 or b.retention_ms < a.retention_ms)
    if b.retention_ms != a.retention_ms:
        out.append(
            Change(
                CHANGE,
                "topic",
                where,
                f"retention.ms {a.retention_ms} -> {b.retention_ms}"
                + (": older messages are deleted" if shorter else ""),
                shorter,
            )
        )
    if b.cleanup_policy != a.cleanup_policy:
        lossy = "compact" in b.cleanup_policy and "compact" not in a.cleanup_policy
        out.append(
            Change(
                CHANGE,
                "topic",
                where,
                f"cleanup.policy {a.cleanup_policy} -> {b.cleanup_policy}"
                + (": compaction drops all but the last value of each key" if lossy else ""),
                lossy,
            )
        )
    if b.min_insync_replicas != a.min_insync_replicas:
        out.append(
            Change(
                CHANGE, "topic", where, f"min.insync.replicas {a.min_insync_replicas} -> {b.min_insync_replicas}", False
            )
        )
    return out
