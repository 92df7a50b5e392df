"""Demo traffic through a running emulation, with the routing client.

One producer (in the hub region, using the hub's routing contract) sends
messages addressed to random regions; one consumer per region, each with its
own region's contract, reads what is addressed to it. Every payload carries
its id, destination and send time, so each consumer can tell what it got
right, what it got twice and what it should never have got.

A region that reads its own cluster (regional-clusters) gets its messages
through MirrorMaker 2; its mirror lag is the time from the hub acknowledging
a message (send time plus the producer's measured delivery latency) to its
receipt from the regional cluster.

With a HubKill (`demo --kill-hub`), the clients are the failover ones
(routing_client.failover): mid-stream the hub's broker is SIGKILLed, the
clients turn to the standby once the hub stayed unreachable for the
contract's afterSeconds, and the emulator re-points what the hub fed. A
message the hub acknowledged that never reached the standby is the RPO: it is
not expected anywhere; everything else is.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from infra import access
from infra.plan import Plan
from routing_client import RoutingConsumer, RoutingProducer
from routing_client.failover import PRIMARY, STANDBY, FailoverConsumer, FailoverProducer

STATS_INTERVAL_MS = 500
# Long enough for two statistics reports after the last message, so the
# fetched byte counts include everything.
GRACE_S = 2.5 * STATS_INTERVAL_MS / 1000
READY_TIMEOUT_S = 30
FLUSH_TIMEOUT_S = 30
# The largest message the producer sends (librdkafka's message.max.bytes default), below the
# emulated brokers' limit (Kafka's default 1,048,588 B; the plan sets no other).
PRODUCER_MESSAGE_MAX_BYTES = 1_000_000
# What a demo message carries besides its padding: the JSON around it, the key, the route headers.
MESSAGE_OVERHEAD_BYTES = 512
MAX_SIZE = PRODUCER_MESSAGE_MAX_BYTES - MESSAGE_OVERHEAD_BYTES
# The clients of a demo that kills the hub: librdkafka logs critical errors only (it would log every refused
# connection to the dead hub), and consumers commit every second (default 5 s), so the group offsets
# MirrorMaker 2 syncs to the standby are recent and a failover hands out less again.
KILLED_HUB_CLIENTS = {"log_level": 2}
KILLED_HUB_COMMIT = {"auto.commit.interval.ms": 1000}


@dataclass
class RegionResult:
    region: str
    addressed_ids: set[int] = field(default_factory=set)
    received_ids: set[int] = field(default_factory=set)
    received: int = 0
    ignored: int = 0
    # Fetched with route headers naming no region of the stack (another producer's mistake).
    unroutable: int = 0
    duplicates: int = 0
    misrouted: int = 0
    # Messages of another run on the same stack (two demos at once); not counted above.
    stale: int = 0
    fetched_bytes: int = 0
    # Bytes the brokers sent the region's consumer during the run (Kafka protocol).
    wire_bytes: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    # Through a mirror flow: first receipt time of each id, and the lags computed from it.
    mirrored: bool = False
    first_receipt_ns: dict[int, int] = field(default_factory=dict)
    mirror_lags_ms: list[float] = field(default_factory=list)

    @property
    def addressed(self) -> int:
        return len(self.addressed_ids)

    # Acknowledged by the hub before it was killed, never on the standby (the RPO): expected nowhere.
    unreplicated_ids: set[int] = field(default_factory=set)

    @property
    def lost(self) -> int:
        return len(self.addressed_ids - self.received_ids - self.unreplicated_ids)

    def latency(self, q: float) -> float | None:
        """The q-quantile (nearest rank) of end-to-end latency in ms."""
        return quantile(self.latencies_ms, q)

    def mirror_lag(self, q: float) -> float | None:
        """The q-quantile of mirror lag in ms; None for a region reading the hub."""
        return quantile(self.mirror_lags_ms, q)


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile by nearest rank, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class HubKill:
    """`demo --kill-hub`: how to kill the hub and fail the emulator over, and what was measured.

    `kill()` SIGKILLs the hub's broker and returns the standby's end offsets
    right after; `fail_over(at_ms)` re-points what the hub fed (run in a
    thread once the producer has turned to the standby); `standby_ids(run)`
    are the ids of a run's messages on the standby.
    """

    at: int
    kill: Callable[[], Mapping[tuple[str, int], int]]
    fail_over: Callable[[int], None]
    standby_ids: Callable[[str], set[int]]
    killed_ns: int = 0
    # Ids the hub acknowledged (necessarily before the kill), and its acknowledged end per partition.
    acked_before: set[int] = field(default_factory=set)
    hub_ends: dict[tuple[str, int], int] = field(default_factory=dict)
    # The standby's end per partition right after the kill.
    standby_ends: Mapping[tuple[str, int], int] = field(default_factory=dict)
    # Messages on the hub not on the standby at the kill: the hub's acknowledged ends minus the standby's.
    lag_at_kill: int = 0
    # Kill -> the producer turned to the standby; kill -> the emulator re-pointed the mirror flows.
    producer_failover_s: float | None = None
    repointed_s: float | None = None
    unreplicated: set[int] = field(default_factory=set)
    resent: int = 0
    consumer_duplicates: int = 0
    error: BaseException | None = None

    def rto_s(self, results: Mapping[str, RegionResult]) -> float | None:
        """Kill -> every region received again: the latest, over regions, first receipt of a message sent after it."""
        firsts = []
        for r in results.values():
            after = [t for i, t in r.first_receipt_ns.items() if i >= self.at]
            if not after:
                return None
            firsts.append(min(after))
        return (max(firsts) - self.killed_ns) / 1e9 if firsts else None


@dataclass
class TrafficResult:
    messages: int
    size: int
    rate: float
    producer_region: str
    regions: dict[str, RegionResult]
    send_s: float
    total_s: float
    delivery_failures: int
    complete: bool
    # Key and value bytes of every message sent (the routes' headers not included).
    key_value_bytes: int = 0
    kill: HubKill | None = None

    @property
    def throughput(self) -> float:
        """Messages per second, first send to last message received."""
        return self.messages / self.total_s if self.total_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Everything expected arrived, exactly where addressed; a failover may duplicate (counted), never lose."""
        return (
            self.complete
            and self.delivery_failures == 0
            and (self.kill is None or self.kill.error is None)
            and all(
                r.lost == 0 and r.misrouted == 0 and (r.duplicates == 0 or self.kill is not None)
                for r in self.regions.values()
            )
        )


class _RegionReader(threading.Thread):
    def __init__(self, region: str, consumer: RoutingConsumer | FailoverConsumer, result: RegionResult, run: str):
        super().__init__(name=f"consumer {region}", daemon=True)
        self.consumer, self.result, self.run_id = consumer, result, run
        self.stop = threading.Event()
        self.error: BaseException | None = None
        # Set when traffic starts: what the consumer had already received while joining.
        self.wire_baseline = 0
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            # As a service would: each message confirmed once counted.
            self.consumer.run(
                lambda got: self._count(json.loads(got.value() or b"{}"), time.time_ns()), self.stop, poll_timeout=0.1
            )
        except BaseException as e:
            self.error = e
        finally:
            self.result.ignored = self.consumer.ignored
            self.result.unroutable = self.consumer.unroutable
            self.result.fetched_bytes = self.consumer.fetched_bytes
            self.result.wire_bytes = self.consumer.wire_bytes - self.wire_baseline
            self.consumer.close()

    def _count(self, payload: dict, now_ns: int) -> None:
        r = self.result
        with self.lock:
            if payload["run"] != self.run_id:
                r.stale += 1
                return
            if payload["to"] != r.region:
                r.misrouted += 1
            if payload["id"] in r.received_ids:
                r.duplicates += 1
            else:
                r.first_receipt_ns[payload["id"]] = now_ns
            r.received_ids.add(payload["id"])
            r.received += 1
            r.latencies_ms.append((now_ns - payload["sent_ns"]) / 1e6)

    def received(self) -> int:
        with self.lock:
            return len(self.result.received_ids & (self.result.addressed_ids - self.result.unreplicated_ids))


def run_traffic(
    plan: Plan,
    bootstrap: Mapping[str, str],
    messages: int,
    *,
    clients: Mapping[str, Mapping[str, str]],
    seed: int | None = None,
    size: int = 200,
    rate: float = 0,
    timeout: float = 60,
    progress: Callable[[str], None] = lambda line: None,
    kill: HubKill | None = None,
) -> TrafficResult:
    """Sends `messages` messages to random regions and waits (bounded) for all of them.

    `clients`: region key -> its client settings (its own login, `Emulation.clients`);
    each region's consumer and the hub region's producer use their region's.
    `rate` paces the producer in messages per second; 0 sends as fast as it can
    (throughput, with latency that is mostly queueing). `kill`: kill the hub
    mid-stream, with failover clients.
    """
    rng = random.Random(seed)
    run = uuid.uuid4().hex
    regions = list(plan.config.regions)
    hub_cluster = plan.routing[plan.config.hub.key].produce_cluster
    results = {r: RegionResult(r, mirrored=plan.routing[r].consume_cluster != hub_cluster) for r in regions}
    readers = []
    consumer_class = RoutingConsumer if kill is None else FailoverConsumer
    # With the hub killed, librdkafka logs every refused connection to it until the clients turn away.
    quiet = {} if kill is None else KILLED_HUB_CLIENTS
    for region in regions:
        consumer = consumer_class(
            plan.routing[region].to_dict(),
            bootstrap,
            # Under the region's group prefix: the only groups its login may join.
            group_id=f"{access.group_prefix(plan.config.regions[region])}demo-{run[:8]}",
            # From the end: a stack kept running may hold earlier runs' messages.
            config={
                **clients[region],
                "statistics.interval.ms": STATS_INTERVAL_MS,
                "auto.offset.reset": "latest",
                **quiet,
                **({} if kill is None else KILLED_HUB_COMMIT),
            },
        )
        readers.append(_RegionReader(region, consumer, results[region], run))
    for reader in readers:
        reader.start()
    # librdkafka holds an idempotent producer's first messages until Kafka
    # gives it a producer id (about half a second); wait for that outside the
    # timed part, as a long-running service would have.
    producer_state = {}
    producer = (RoutingProducer if kill is None else FailoverProducer)(
        plan.routing[plan.config.hub.key].to_dict(),
        bootstrap,
        config={
            **clients[plan.config.hub.key],
            **quiet,
            "linger.ms": 5,
            "statistics.interval.ms": 100,
            "stats_cb": lambda text: producer_state.update(json.loads(text).get("eos", {})),
        },
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (all(r.consumer.fetching for r in readers) and producer_state.get("idemp_state") == "Assigned"):
            _check(readers)
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumers and producer not ready within {READY_TIMEOUT_S} s")
            producer.poll(0.05)
        for reader in readers:
            reader.wire_baseline = reader.consumer.wire_bytes
        return _send_and_wait(plan, producer, messages, rng, run, size, rate, timeout, results, readers, progress, kill)
    finally:
        for reader in readers:
            reader.stop.set()
        for reader in readers:
            reader.join(timeout=10)


def _check(readers: list[_RegionReader]) -> None:
    for r in readers:
        if r.error is not None:
            raise RuntimeError(f"{r.name} failed: {r.error}") from r.error


def _send_and_wait(
    plan, producer, messages, rng, run, size, rate, timeout, results, readers, progress, kill
) -> TrafficResult:
    source = plan.config.hub.key
    regions = list(results)
    events = list(plan.config.events)
    acked = failed = key_value_bytes = 0
    sent_ns: dict[int, int] = {}
    acked_ns: dict[int, int] = {}

    def delivered(err, msg) -> None:
        nonlocal acked, failed
        if err is None:
            acked += 1
            i = int(msg.key())
            acked_ns[i] = sent_ns[i] + round(msg.latency() * 1e9)
            # Acknowledged by the hub: a killed hub acknowledges nothing, but a report it sent just before
            # the kill may be served just after, so the side that reported it says which hub it was.
            if kill is not None and producer.active == PRIMARY:
                kill.acked_before.add(i)
                tp = (msg.topic(), msg.partition())
                kill.hub_ends[tp] = max(kill.hub_ends.get(tp, 0), msg.offset() + 1)
        else:
            failed += 1

    repointing: list[threading.Thread] = []

    def follow_producer() -> None:
        """Once the producer has turned to the standby, the emulator fails over too (in a thread)."""
        if kill is not None and kill.killed_ns and not repointing and producer.active == STANDBY:
            kill.producer_failover_s = (time.time_ns() - kill.killed_ns) / 1e9
            progress(f"  producer turned to the standby after {kill.producer_failover_s:.1f} s")
            repointing.append(threading.Thread(target=fail_over_emulator, name="fail over", daemon=True))
            repointing[0].start()

    def fail_over_emulator() -> None:
        try:
            kill.fail_over(kill.killed_ns // 1_000_000)
            kill.repointed_s = (time.time_ns() - kill.killed_ns) / 1e9
        except BaseException as e:
            kill.error = e

    pad = "x" * max(0, size - 120)
    started = time.monotonic()
    next_report = started + 1
    for i in range(messages):
        if kill is not None:
            if i == kill.at:
                # Serve the acknowledgments already in, so that what the hub acknowledged is known.
                producer.poll(0)
                kill.killed_ns = time.time_ns()
                kill.standby_ends = kill.kill()
                progress(f"  killed the hub's broker (SIGKILL) at message {i}")
            follow_producer()
        if rate > 0:
            # poll() returns early once it has served a delivery report: wait out the rest.
            due = started + i / rate
            while (ahead := due - time.monotonic()) > 0:
                producer.poll(ahead)
        to = rng.choice(regions)
        with readers[regions.index(to)].lock:
            results[to].addressed_ids.add(i)
        sent_ns[i] = time.time_ns()
        payload = json.dumps({"run": run, "id": i, "to": to, "sent_ns": sent_ns[i], "pad": pad})
        key_value_bytes += len(payload.encode()) + len(str(i))
        producer.send(rng.choice(events), to, payload.encode(), key=str(i), on_delivery=delivered)
        if time.monotonic() >= next_report:
            next_report += 1
            progress(_progress_line(i + 1, messages, acked, readers))
            _check(readers)
    if kill is None:
        left = producer.flush(FLUSH_TIMEOUT_S)
    else:
        # The producer may still be waiting out the hub's outage: it turns to the standby meanwhile.
        flush_until = time.monotonic() + FLUSH_TIMEOUT_S
        while (left := producer.flush(0.2)) and time.monotonic() < flush_until:
            follow_producer()
        follow_producer()
    send_s = time.monotonic() - started
    progress(_progress_line(messages, messages, acked, readers))
    if kill is not None:
        _after_kill(kill, producer, repointing, run, results, readers, progress)

    deadline = time.monotonic() + timeout
    last = started
    while True:
        _check(readers)
        got = sum(r.received() for r in readers)
        if got >= messages - failed - left - (len(kill.unreplicated) if kill is not None else 0):
            last = time.monotonic()
            break
        if time.monotonic() > deadline:
            break
        if time.monotonic() >= next_report:
            next_report += 1
            progress(_progress_line(messages, messages, acked, readers))
        time.sleep(0.01)
    expected = messages - (len(kill.unreplicated) if kill is not None else 0)
    complete = sum(r.received() for r in readers) == expected
    total_s = (last if complete else time.monotonic()) - started
    time.sleep(GRACE_S)
    for reader in readers:
        reader.stop.set()
    for reader in readers:
        reader.join(timeout=10)
    _check(readers)
    for r in results.values():
        if r.mirrored:
            r.mirror_lags_ms = [(t - acked_ns[i]) / 1e6 for i, t in r.first_receipt_ns.items() if i in acked_ns]
    if kill is not None:
        kill.resent = producer.resent
        kill.consumer_duplicates = sum(r.consumer.duplicates for r in readers)
    return TrafficResult(
        messages, size, rate, source, results, send_s, total_s, failed + left, complete, key_value_bytes, kill
    )


def _after_kill(kill: HubKill, producer, repointing, run, results, readers, progress) -> None:
    """Once everything is sent: the emulator has failed over, and what never reached the standby is known."""
    if kill.killed_ns and not repointing:
        raise RuntimeError("the hub was killed but the producer never turned to the standby")
    repointing[0].join(READY_TIMEOUT_S * 4)
    if kill.error is not None:
        raise RuntimeError(f"failing the emulator over failed: {kill.error}") from kill.error
    # Every report of the hub is served by now (the producer left it), so its acknowledged ends are whole.
    kill.lag_at_kill = sum(max(0, end - kill.standby_ends.get(tp, 0)) for tp, end in kill.hub_ends.items())
    on_standby = kill.standby_ids(run)
    kill.unreplicated = kill.acked_before - on_standby
    for reader in readers:
        with reader.lock:
            reader.result.unreplicated_ids = reader.result.addressed_ids & kill.unreplicated
    progress(
        f"  {len(kill.acked_before)} acknowledged by the hub before the kill, "
        f"{len(kill.unreplicated)} of them never reached the standby"
    )


def run_ids_on(bootstrap: str, login: Mapping[str, str], topics: list[str], run: str, timeout: float = 30) -> set[int]:
    """The ids of run `run`'s messages on a cluster's `topics`, read (as `login`) from their start to their end now."""
    c = Consumer(
        {"bootstrap.servers": bootstrap, **login, "group.id": f"demo-audit-{run[:8]}", "enable.auto.commit": False}
    )
    try:
        meta = c.list_topics(timeout=10).topics
        ends = {}
        for t in topics:
            for p in meta[t].partitions if t in meta else ():
                low, high = c.get_watermark_offsets(TopicPartition(t, p), timeout=10)
                if high > low:
                    ends[(t, p)] = high
        c.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
        ids: set[int] = set()
        done: set[tuple[str, int]] = set()
        deadline = time.monotonic() + timeout
        while len(done) < len(ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {len(ends)} partitions on {bootstrap} took over {timeout:.0f} s")
            for msg in c.consume(1000, 0.5):
                if msg.error() is not None:
                    continue
                tp = (msg.topic() or "", msg.partition() or 0)
                payload = json.loads(msg.value() or b"{}")
                if payload.get("run") == run:
                    ids.add(payload["id"])
                if (msg.offset() or 0) + 1 >= ends[tp]:
                    done.add(tp)
        return ids
    finally:
        c.close()


def _progress_line(sent: int, total: int, acked: int, readers: list[_RegionReader]) -> str:
    got = sum(r.received() for r in readers)
    return f"  sent {sent}/{total}, acknowledged {acked}, received {got}"
