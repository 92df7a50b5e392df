"""Kafka tier: MirrorMaker 2 on real Kafka, with the connectors infra.mirrormaker generates for the cloud.

Every message produced to the hub for a region must appear on that region's
own cluster, under the same topic name and partition, in order. Faults (the
MirrorMaker 2 worker killed, the hub broker restarted, both mid-stream) may
duplicate messages but never lose one; duplicates are counted and reported.
A consumer group that moves from the hub to its local cluster resumes from
its translated offset.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

from emulator import connect, stack
from infra import access, mirrormaker
from infra.kinds import ClusterRole
from routing_client import RoutingProducer

SETTLE_TIMEOUT_S = 120
QUIET = {"log_level": 3}


class Stream(threading.Thread):
    """Sends keyed messages for every region but the hub's to the hub, as the routing contract says.

    Records what the hub acknowledged, by (topic, partition), in offset order.
    """

    def __init__(self, plan, emulation, rate: float, count: int | None = None, routes=None):
        """`routes`: the (event, region) pairs to send to in turn; default every event for every region."""
        super().__init__(daemon=True)
        self.plan, self.rate, self.count = plan, rate, count
        self.run_id = uuid.uuid4().hex[:12]
        hub = plan.config.hub.key
        self.producer = RoutingProducer(
            plan.routing[hub].to_dict(), emulation.bootstrap(), config={**QUIET, **emulation.client(hub)}
        )
        self.routes = routes or [(e, r) for e in plan.config.events for r in stream_regions(plan)]
        self.acked: dict[tuple[str, int], dict[int, int]] = defaultdict(dict)
        self.failed = 0
        self.sent = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def _delivered(self, err, msg) -> None:
        if err is not None:
            self.failed += 1
        else:
            self.acked[(msg.topic(), msg.partition())][msg.offset()] = int(msg.key())

    def run(self) -> None:
        try:
            started = time.monotonic()
            while not self.stop.is_set() and (self.count is None or self.sent < self.count):
                i = self.sent
                if self.rate:
                    ahead = started + i / self.rate - time.monotonic()
                    if ahead > 0:
                        self.producer.poll(ahead)
                event, region = self.routes[i % len(self.routes)]
                self.producer.send(
                    event, region, f"{self.run_id}:{i}".encode(), key=str(i), on_delivery=self._delivered
                )
                self.sent += 1
            assert self.producer.flush(SETTLE_TIMEOUT_S) == 0, "the hub did not acknowledge every message"
            self.producer = None
        except BaseException as e:
            self.error = e

    def finish(self) -> dict[tuple[str, int], list[int]]:
        """Stops sending (or waits for `count` sends); the acknowledged ids per (topic, partition), in hub offset order."""
        if self.count is None:
            self.stop.set()
        self.join(SETTLE_TIMEOUT_S + 10)
        assert not self.is_alive() and self.error is None, self.error
        assert self.failed == 0
        return {tp: [ids[o] for o in sorted(ids)] for tp, ids in self.acked.items()}


def local_copies(plan, emulation, run_id: str, expected: dict[tuple[str, int], list[int]]):
    """Reads every region's own cluster until each (topic, partition) holds all `expected` ids (bounded).

    Returns the ids of this run per (topic, partition) in local offset order,
    duplicates included.
    """
    got: dict[tuple[str, int], list[int]] = defaultdict(list)
    consumers = []
    for key, cluster in emulation.clusters.items():
        # The regions' own clusters; the standby hub holds every topic, and is checked by the failover tests.
        if plan.clusters[key].role != ClusterRole.LOCAL:
            continue
        c = Consumer(
            {
                "bootstrap.servers": cluster.bootstrap,
                **emulation.admin(),
                "group.id": f"verify-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                **QUIET,
            }
        )
        md = c.list_topics(timeout=10)
        c.assign([TopicPartition(t, p, 0) for t in plan.topics[key] for p in md.topics[t].partitions])
        consumers.append(c)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    prefix = f"{run_id}:".encode()

    def complete() -> bool:
        return all(set(ids) <= set(got.get(tp, ())) for tp, ids in expected.items())

    try:
        while not complete():
            assert time.monotonic() < deadline, "not every message reached its region's cluster in time"
            for c in consumers:
                for msg in c.consume(500, timeout=0.2):
                    if msg.error() is None and msg.value().startswith(prefix):
                        got[(msg.topic(), msg.partition())].append(int(msg.key()))
    finally:
        for c in consumers:
            c.close()
    return got


def check_copies(plan, sent: dict[tuple[str, int], list[int]], copies) -> int:
    """Asserts every partition's copy is its hub sequence, possibly with replays; returns the duplicates."""
    local_topics = {
        t: key for key, topics in plan.topics.items() if plan.clusters[key].role == ClusterRole.LOCAL for t in topics
    }
    duplicates = 0
    for tp, ids in sent.items():
        topic = tp[0]
        assert topic in local_topics, f"{topic} was sent to the hub for a region that reads the hub"
        copy = copies[tp]
        first_seen = list(dict.fromkeys(copy))
        assert first_seen == ids, f"{tp}: the copy on {local_topics[topic]} is not the hub's sequence"
        duplicates += len(copy) - len(first_seen)
    assert set(copies) == set(sent)
    return duplicates


def test_every_message_for_a_region_reaches_its_cluster_in_order_under_the_same_name(prod_up):
    plan, emulation = prod_up
    stream = Stream(plan, emulation, rate=0, count=1500)
    stream.start()
    sent = stream.finish()
    assert sum(map(len, sent.values())) == 1500
    copies = local_copies(plan, emulation, stream.run_id, sent)
    assert check_copies(plan, sent, copies) == 0
    for key, cluster in emulation.clusters.items():
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap, **emulation.admin(), **QUIET})
        names = set(admin.list_topics(timeout=10).topics)
        assert {n for n in names if not connect.internal(n)} == set(plan.topics[key])
        # Identity replication: no topic renamed after its source cluster.
        assert not {
            n
            for n in names
            if n.startswith(mirrormaker.alias(plan.config.hub.key) + ".") and not n.endswith(".internal")
        }


@pytest.mark.parametrize("fault", ["mirrormaker-killed", "hub-restarted"])
def test_a_fault_mid_stream_loses_nothing(prod_up, emulator_root, fault, record_property):
    plan, emulation = prod_up
    hub = plan.config.hub.key
    stream = Stream(plan, emulation, rate=400)
    stream.start()
    time.sleep(2)
    if fault == "mirrormaker-killed":
        for target in emulation.workers:
            stack.stop_process("prod", target, worker=True, kill=True, root=emulator_root)
        time.sleep(1)
        for target in emulation.workers:
            stack.start_worker("prod", target, root=emulator_root)
    else:
        stack.stop_process("prod", hub, worker=False, root=emulator_root)
        time.sleep(1)
        stack.start_broker("prod", hub, root=emulator_root)
    time.sleep(2)
    sent = stream.finish()
    copies = local_copies(plan, emulation, stream.run_id, sent)
    duplicates = check_copies(plan, sent, copies)
    total = sum(map(len, sent.values()))
    record_property("duplicates", duplicates)
    print(f"{fault}: {total} messages sent, none lost, {duplicates} copied twice")
    running = stack.load("prod", emulator_root)
    assert all(running.alive().values()) and all(running.workers_alive().values())


def test_a_consumer_group_moving_from_the_hub_to_its_cluster_resumes_at_the_translated_offset(prod_up):
    plan, emulation = prod_up
    region = "gcp/europe-west1"
    topic = plan.routing[region].consume["create_account"]
    # The test reads and commits as the emulator's super user; MirrorMaker 2 translates the groups of the
    # region's services (under their prefix) as its own principal.
    hub, local = (
        {"bootstrap.servers": emulation.clusters[key].bootstrap, **emulation.admin()}
        for key in (plan.config.hub.key, region)
    )
    group = f"{access.group_prefix(plan.config.regions[region])}switch-{uuid.uuid4().hex[:8]}"
    flow = next(f for f in plan.mirrors.values() if f.target == region)
    source_config = mirrormaker.connector_configs(flow, mirrormaker.Endpoint("a", "a"), mirrormaker.Endpoint("b", "b"))[
        mirrormaker.connector_names(flow)["source"]
    ]
    lag_max = int(source_config["offset.lag.max"])
    partitions = _partitions(hub, topic)

    def send(count: int) -> tuple[Stream, dict]:
        # Paced like a service's traffic: a burst leaves MirrorMaker time to
        # emit only the last offset sync of each partition, and offsets
        # between syncs translate to the sync before them (read again, never skipped).
        stream = Stream(plan, emulation, rate=300, count=count, routes=[("create_account", region)])
        stream.start()
        sent = stream.finish()
        local_copies(plan, emulation, stream.run_id, sent)
        return stream, sent

    # A service's group exists on the hub before the traffic it will move
    # with: MirrorMaker's checkpoint connector finds new groups only every
    # refresh.groups.interval.seconds, and a checkpoint task that starts
    # (as it does for a new group) knows only the latest offset sync of each
    # partition, so it can translate nothing older.
    send(20 * len(partitions))
    base = _end_offsets(hub, topic, partitions)
    # Earlier faults may have copied messages twice, so local offsets can be ahead of the hub's.
    local_base = _end_offsets(local, topic, partitions)
    _commit(hub, group, {(topic, p): o for p, o in base.items()})
    _wait(
        lambda: set(_group_offsets(local, group, topic)) == {p for p in partitions if base[p] > 0},
        "MirrorMaker 2 did not start following the new consumer group",
        timeout=120,
    )

    stream, sent = send(50 * len(partitions))
    ids_sent = {i for ids in sent.values() for i in ids}
    # On the hub the group reads three quarters of each partition, commits, leaves.
    on_hub = _consume_on_hub(hub, group, topic, base, sent, share=0.75)

    # The checkpoint connector translates the group's offsets and commits them on the local cluster.
    def synced() -> bool:
        offsets = _group_offsets(local, group, topic)
        return all(offsets.get(p, -1) > local_base[p] for p, n in on_hub["counts"].items() if n > 2 * (lag_max + 1))

    _wait(synced, "the group's translated offsets did not reach the local cluster", timeout=120)

    read_local = _read_group(local, group, topic, stream.run_id, expect=ids_sent - on_hub["ids"])
    missing = ids_sent - on_hub["ids"] - set(read_local)
    again = [i for i in read_local if i in on_hub["ids"]]
    print(
        f"group switch: {len(on_hub['ids'])} read on the hub, then {len(read_local)} on {region}, "
        f"{len(again)} of them read again; {len(missing)} missing"
    )
    assert not missing
    assert len(again) < len(on_hub["ids"]) / 2


def stream_regions(plan) -> list[str]:
    return [r for r in plan.config.regions if plan.routing[r].consume_cluster != plan.config.hub.key]


def _wait(predicate, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(0.5)


def _partitions(conn: dict, topic: str) -> list[int]:
    md = AdminClient({**conn, **QUIET}).list_topics(topic, timeout=10)
    return sorted(md.topics[topic].partitions)


def _end_offsets(conn: dict, topic: str, partitions: list[int]) -> dict[int, int]:
    c = Consumer({**conn, "group.id": f"probe-{uuid.uuid4().hex}", **QUIET})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        c.close()


def _commit(conn: dict, group: str, offsets: dict[tuple[str, int], int]) -> None:
    c = Consumer({**conn, "group.id": group, "enable.auto.commit": False, **QUIET})
    try:
        c.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False)
    finally:
        c.close()


def _consume_on_hub(conn: dict, group: str, topic: str, base: dict[int, int], sent, share: float) -> dict:
    """Reads `share` of each partition's new messages with `group` from its committed offsets; commits."""
    want = {p: int(share * len(sent.get((topic, p), []))) for p in base}
    counts = dict.fromkeys(base, 0)
    ids: set[int] = set()
    c = Consumer({**conn, "group.id": group, "enable.auto.commit": False, **QUIET})
    try:
        c.assign([TopicPartition(topic, p, base[p]) for p in base])
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while counts != want:
            assert time.monotonic() < deadline, "could not read the hub"
            msg = c.poll(0.2)
            if msg is None or msg.error() is not None:
                continue
            p = msg.partition()
            if counts[p] < want[p]:
                counts[p] += 1
                ids.add(int(msg.key()))
                if counts[p] == want[p]:
                    c.pause([TopicPartition(topic, p)])
        c.commit(offsets=[TopicPartition(topic, p, base[p] + n) for p, n in counts.items()], asynchronous=False)
    finally:
        c.close()
    return {"counts": counts, "ids": ids}


def _group_offsets(conn: dict, group: str, topic: str) -> dict[int, int]:
    admin = AdminClient({**conn, **QUIET})
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout=10)
    return {tp.partition: tp.offset for tp in result.topic_partitions if tp.topic == topic and tp.offset >= 0}


def _read_group(conn: dict, group: str, topic: str, run_id: str, expect: set[int]) -> list[int]:
    """What `group` reads on the local cluster from its synced offsets, until it has `expect` (bounded)."""
    prefix = f"{run_id}:".encode()
    got: list[int] = []
    c = Consumer(
        {
            **conn,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            **QUIET,
        }
    )
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while not expect <= set(got):
            assert time.monotonic() < deadline, "the group did not read what it had left on the hub"
            for msg in c.consume(500, timeout=0.2):
                if msg.error() is None and msg.value().startswith(prefix):
                    got.append(int(msg.key()))
        # Anything still queued for the group is read too, so duplicates are all counted.
        for msg in c.consume(500, timeout=1):
            if msg.error() is None and msg.value().startswith(prefix):
                got.append(int(msg.key()))
    finally:
        c.close()
    return got
