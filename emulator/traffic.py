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
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from infra import access
from infra.plan import Plan
from routing_client import RoutingConsumer, RoutingProducer

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

    @property
    def lost(self) -> int:
        return len(self.addressed_ids - self.received_ids)

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

    @property
    def throughput(self) -> float:
        """Messages per second, first send to last message received."""
        return self.messages / self.total_s if self.total_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        return (
            self.complete
            and self.delivery_failures == 0
            and all(r.lost == 0 and r.duplicates == 0 and r.misrouted == 0 for r in self.regions.values())
        )


class _RegionReader(threading.Thread):
    def __init__(self, region: str, consumer: RoutingConsumer, result: RegionResult, run: str):
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
            return len(self.result.received_ids & self.result.addressed_ids)


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
) -> TrafficResult:
    """Sends `messages` messages to random regions and waits (bounded) for all of them.

    `clients`: region key -> its client settings (its own login, `Emulation.clients`);
    each region's consumer and the hub region's producer use their region's.
    `rate` paces the producer in messages per second; 0 sends as fast as it can
    (throughput, with latency that is mostly queueing).
    """
    rng = random.Random(seed)
    run = uuid.uuid4().hex
    regions = list(plan.config.regions)
    hub_cluster = plan.routing[plan.config.hub.key].produce_cluster
    results = {r: RegionResult(r, mirrored=plan.routing[r].consume_cluster != hub_cluster) for r in regions}
    readers = []
    for region in regions:
        consumer = RoutingConsumer(
            plan.routing[region].to_dict(),
            bootstrap,
            # Under the region's group prefix: the only groups its login may join.
            group_id=f"{access.group_prefix(plan.config.regions[region])}demo-{run[:8]}",
            # From the end: a stack kept running may hold earlier runs' messages.
            config={**clients[region], "statistics.interval.ms": STATS_INTERVAL_MS, "auto.offset.reset": "latest"},
        )
        readers.append(_RegionReader(region, consumer, results[region], run))
    for reader in readers:
        reader.start()
    # librdkafka holds an idempotent producer's first messages until Kafka
    # gives it a producer id (about half a second); wait for that outside the
    # timed part, as a long-running service would have.
    producer_state = {}
    producer = RoutingProducer(
        plan.routing[plan.config.hub.key].to_dict(),
        bootstrap,
        config={
            **clients[plan.config.hub.key],
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
        return _send_and_wait(plan, producer, messages, rng, run, size, rate, timeout, results, readers, progress)
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
    plan, producer, messages, rng, run, size, rate, timeout, results, readers, progress
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
        else:
            failed += 1

    pad = "x" * max(0, size - 120)
    started = time.monotonic()
    next_report = started + 1
    for i in range(messages):
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
    left = producer.flush(FLUSH_TIMEOUT_S)
    send_s = time.monotonic() - started
    progress(_progress_line(messages, messages, acked, readers))

    deadline = time.monotonic() + timeout
    last = started
    while True:
        _check(readers)
        got = sum(r.received() for r in readers)
        if got >= messages - failed - left:
            last = time.monotonic()
            break
        if time.monotonic() > deadline:
            break
        if time.monotonic() >= next_report:
            next_report += 1
            progress(_progress_line(messages, messages, acked, readers))
        time.sleep(0.01)
    complete = sum(r.received() for r in readers) == messages
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
    return TrafficResult(
        messages, size, rate, source, results, send_s, total_s, failed + left, complete, key_value_bytes
    )


def _progress_line(sent: int, total: int, acked: int, readers: list[_RegionReader]) -> str:
    got = sum(r.received() for r in readers)
    return f"  sent {sent}/{total}, acknowledged {acked}, received {got}"
