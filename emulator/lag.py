"""Consumer lag per region and mirror lag per flow on a running emulator stack, asked of its brokers.

Consumer lag: for each region, every consumer group with committed positions
on the region's consume topics (on its consume cluster), the sum over those
partitions of the partition's end minus the committed position: the same
definition librdkafka's `consumer_lag` and the routing client's `lag` use.
Mirror lag: for each mirror flow, the messages on the source's copies of the
flow's topics not yet on the target (identity replication keeps the names,
and only the flow writes the target's copies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from infra.plan import Plan

QUIET = {"log_level": 0}
TIMEOUT_S = 10


@dataclass(frozen=True)
class GroupLag:
    region: str
    cluster: str
    group: str
    # (topic, partition) -> messages behind
    partitions: Mapping[tuple[str, int], int]

    @property
    def total(self) -> int:
        return sum(self.partitions.values())


@dataclass(frozen=True)
class MirrorLag:
    flow: str
    source: str
    target: str
    # topic -> messages on the source not yet on the target
    topics: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.topics.values())


def _ends(bootstrap: str, login: Mapping[str, str], topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) -> end offset, for the topics that exist on the cluster."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "emulator-status", **login, **QUIET})
    try:
        meta = c.list_topics(timeout=TIMEOUT_S).topics
        return {
            (t, p): c.get_watermark_offsets(TopicPartition(t, p), timeout=TIMEOUT_S)[1]
            for t in sorted(set(topics))
            if t in meta
            for p in meta[t].partitions
        }
    finally:
        c.close()


def consumer_lag(plan: Plan, bootstrap: Mapping[str, str], login: Mapping[str, str]) -> list[GroupLag]:
    """Every group's lag on each region's consume topics, by region then group; `login`: the emulator's own."""
    out: list[GroupLag] = []
    by_cluster: dict[str, list[str]] = {}
    for region, contract in plan.routing.items():
        by_cluster.setdefault(contract.consume_cluster, []).append(region)
    for cluster, regions in by_cluster.items():
        admin = AdminClient({"bootstrap.servers": bootstrap[cluster], **login, **QUIET})
        groups = sorted(
            g.group_id for g in admin.list_consumer_groups(request_timeout=TIMEOUT_S).result(TIMEOUT_S).valid
        )
        # Regions reading the same topics (header routing's shared event topics) are one row.
        shared: dict[frozenset[str], list[str]] = {}
        for region in regions:
            shared.setdefault(frozenset(plan.routing[region].consume.values()), []).append(region)
        topics = {", ".join(rs): set(ts) for ts, rs in shared.items()}
        ends = _ends(bootstrap[cluster], login, set().union(*topics.values()))
        committed: dict[str, dict[tuple[str, int], int]] = {}
        for group in groups:
            futures = admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=TIMEOUT_S
            )
            result = futures[group].result(TIMEOUT_S)
            committed[group] = {
                (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or [] if tp.offset >= 0
            }
        for region, wanted in topics.items():
            for group in groups:
                mine = {
                    tp: max(0, ends[tp] - off) for tp, off in committed[group].items() if tp[0] in wanted and tp in ends
                }
                if mine:
                    out.append(GroupLag(region, cluster, group, mine))
    return out


def mirror_lag(plan: Plan, bootstrap: Mapping[str, str], login: Mapping[str, str]) -> list[MirrorLag]:
    out: list[MirrorLag] = []
    for flow in plan.mirrors.values():
        source = _ends(bootstrap[flow.source], login, flow.topics)
        target = _ends(bootstrap[flow.target], login, flow.topics)
        behind: dict[str, int] = {}
        for (topic, partition), end in source.items():
            behind[topic] = behind.get(topic, 0) + max(0, end - target.get((topic, partition), 0))
        out.append(MirrorLag(flow.key, flow.source, flow.target, behind))
    return out
