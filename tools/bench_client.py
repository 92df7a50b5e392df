"""`./scripts/bench-client`: the routing client's throughput against raw confluent-kafka, per architecture.

For dev (header-routing), staging (topic-per-region) and prod
(regional-clusters), on a fresh emulator stack each (free loopback ports,
data under .emulator/bench-client/), one region's services, both sides with
the same settings on the same topics and partitions:
- produce: `RoutingProducer.send` against a raw `Producer.produce` with the
  same route (topic and headers), the same settings (idempotent, acks=all,
  linger.ms=5), a delivery callback counting failures and `poll(0)` after
  each message, then flush. Each producer sends one message first, untimed,
  so connecting and getting a producer id are not measured. With header
  routing every other message goes to another region (same topic).
- consume: `RoutingConsumer.poll` + `confirm` against a raw `Consumer.poll`
  that is at least once as the routing consumer is: offsets are stored only
  after a message was handled (`enable.auto.offset.store=false`,
  `store_offsets` after each message) and committed in the background. With
  header routing the raw side checks the route headers in plain code and
  both sides skip the other region's half. Each run reads every message of
  the topic from the start on a new consumer group; the clock runs from the
  first kept message to the last.
Raw and routing runs alternate, `--rounds` of each, the side going first
swapping every round. Reported per direction: the median rate of each side,
the median of the rounds' routing/raw ratios with their range (min-max), and
the median main-thread CPU time per message of each side (thread_time: less
disturbed than the wall clock by other work on the machine).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from emulator import jars, ports, stack
from emulator.cli import plan_for
from emulator.errors import EmulatorError
from infra import access
from infra.plan import Plan
from infra.render import table
from routing_client import RoutingConsumer, RoutingProducer

ROOT = stack.DATA / "bench-client"
STACKS = ("dev", "staging", "prod")
QUIET = {"log_level": 0}
PRODUCER = {"enable.idempotence": True, "acks": "all", "linger.ms": 5, **QUIET}
CONSUMER = {"auto.offset.reset": "earliest", **QUIET}
WAIT_S = 180
Headers = list[tuple[str, str | bytes | None]]
GOAL = 0.9


@dataclass(frozen=True)
class Run:
    """One timed run: messages per second (wall clock) and main-thread CPU microseconds per message."""

    rate: float
    cpu_us: float


@dataclass
class Side:
    runs: list[Run] = field(default_factory=list)


@dataclass(frozen=True)
class Setup:
    """What both sides of one stack share: the region measured, its routes, and the messages."""

    plan: Plan
    bootstrap: dict[str, str]
    # The measured region's own login, and the emulator's super user (for watermarks only).
    login: dict[str, str]
    admin: dict[str, str]
    event: str
    here: str
    other: str
    shared: bool
    messages: list[tuple[bytes, bytes]]

    def destination(self, i: int) -> str:
        """Header routing: every other message for another region, on the same topic."""
        return self.other if self.shared and i % 2 else self.here

    @property
    def kept_per_run(self) -> int:
        return sum(self.destination(i) == self.here for i in range(len(self.messages)))


def _regions(plan: Plan) -> tuple[str, str]:
    """The region whose services are measured, and another one to address the skipped half to."""
    keys = list(plan.routing)
    here = next(k for k in keys if k != plan.config.hub.key)
    return here, next(k for k in keys if k != here)


def _messages(n: int, size: int) -> list[tuple[bytes, bytes]]:
    return [(f"k{i}".encode(), (f"v{i}-".encode() * size)[:size]) for i in range(n)]


def _timed(work: Callable[[], int]) -> Run:
    start, cpu = time.perf_counter(), time.thread_time()
    count = work()
    return Run(count / (time.perf_counter() - start), (time.thread_time() - cpu) / count * 1e6)


def produce_routing(s: Setup) -> Run:
    with RoutingProducer(s.plan.routing[s.here].to_dict(), s.bootstrap, config={**PRODUCER, **s.login}) as p:
        p.send(s.event, s.other, b"warm-up")
        p.flush(WAIT_S)

        def work() -> int:
            for i, (key, value) in enumerate(s.messages):
                p.send(s.event, s.destination(i), value, key=key)
            if p.flush(WAIT_S):
                raise EmulatorError(f"routing producer: {len(p)} still queued after {WAIT_S} s")
            return len(s.messages)

        run = _timed(work)
    return run


def produce_raw(s: Setup) -> Run:
    contract = s.plan.routing[s.here]
    routes: dict[str, tuple[str, Headers | None]] = {
        dest: (r.topic, list(r.headers.items()) or None) for dest, r in contract.produce[s.event].items()
    }
    failed = [0]

    def report(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failed[0] += 1

    p = Producer({"bootstrap.servers": s.bootstrap[contract.produce_cluster], **PRODUCER, **s.login})

    def send(dest: str, value: bytes, key: bytes | None) -> None:
        topic, headers = routes[dest]
        while True:
            try:
                p.produce(topic, value, key, on_delivery=report, headers=headers)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)

    send(s.other, b"warm-up", None)
    p.flush(WAIT_S)

    def work() -> int:
        for i, (key, value) in enumerate(s.messages):
            send(s.destination(i), value, key)
        if p.flush(WAIT_S):
            raise EmulatorError(f"raw producer: {len(p)} still queued after {WAIT_S} s")
        return len(s.messages)

    run = _timed(work)
    if failed[0]:
        raise EmulatorError(f"raw producer: {failed[0]} failed")
    return run


def _drain(poll: Callable[[], int], expected: int, what: str) -> Run:
    """Calls `poll` (messages kept, 0 or 1) until `expected` were kept, timed from the first one."""
    deadline = time.monotonic() + WAIT_S
    kept = 0
    while not kept:
        kept = poll()
        if time.monotonic() > deadline:
            raise EmulatorError(f"{what}: no message within {WAIT_S} s")

    def rest() -> int:
        done, calls = kept, 0
        while done < expected:
            done += poll()
            calls += 1
            # The same bookkeeping for both sides, whatever poll returns.
            if calls % 1024 == 0 and time.monotonic() > deadline:
                raise EmulatorError(f"{what}: kept {done} of {expected} within {WAIT_S} s")
        return done - 1

    # The first message started the clock: the rest is what was timed.
    return _timed(rest)


def wait_for_topic(bootstrap: str, admin: dict[str, str], topic: str, total: int) -> None:
    """Waits (bounded) until `topic` holds `total` messages, so mirroring never paces a consumer."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watermarks", **admin, **QUIET})
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            parts = c.list_topics(topic, timeout=10).topics[topic].partitions
            have = sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts)
            if have >= total:
                return
            if time.monotonic() > deadline:
                raise EmulatorError(f"{topic} holds {have} of {total} messages after {WAIT_S} s")
            time.sleep(0.5)
    finally:
        c.close()


def _group(s: Setup) -> str:
    """A new group for every run, under the measured region's own prefix: the only groups its login may join."""
    return f"{access.group_prefix(s.plan.config.regions[s.here])}bench-{uuid.uuid4().hex[:8]}"


def consume_routing(s: Setup, expected: int) -> Run:
    c = RoutingConsumer(
        s.plan.routing[s.here].to_dict(),
        s.bootstrap,
        _group(s),
        events=[s.event],
        config={**CONSUMER, **s.login},
    )
    try:

        def poll() -> int:
            got = c.poll(0.5)
            if got is None:
                return 0
            c.confirm(got)
            return 1

        return _drain(poll, expected, "routing consumer")
    finally:
        c.close()


def consume_raw(s: Setup, expected: int) -> Run:
    contract = s.plan.routing[s.here]
    mine = {k: v.encode() for k, v in contract.header_filter.items()}
    c = Consumer(
        {
            "bootstrap.servers": s.bootstrap[contract.consume_cluster],
            "group.id": _group(s),
            # At least once: a position is stored once its message was handled, as the routing consumer does.
            "enable.auto.offset.store": False,
            **CONSUMER,
            **s.login,
        }
    )
    c.subscribe([contract.consume[s.event]])
    try:

        def poll() -> int:
            msg = c.poll(0.5)
            if msg is None:
                return 0
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    return 0
                raise KafkaException(err)
            kept = 1
            if mine:
                headers = dict(msg.headers() or ())
                if any(headers.get(k) != v for k, v in mine.items()):
                    kept = 0
            c.store_offsets(msg)
            return kept

        return _drain(poll, expected, "raw consumer")
    finally:
        c.close()


def _rounds(rounds: int, raw: Callable[[], Run], routing: Callable[[], Run]) -> tuple[Side, Side]:
    """Alternates the sides, swapping which goes first every round."""
    sides = (Side(), Side())
    for r in range(rounds):
        order = ((0, raw), (1, routing)) if r % 2 == 0 else ((1, routing), (0, raw))
        for i, run in order:
            sides[i].runs.append(run())
    return sides


def _row(architecture: str, direction: str, raw: Side, routing: Side) -> tuple[str, ...]:
    ratios = sorted(b.rate / a.rate for a, b in zip(raw.runs, routing.runs, strict=True))
    return (
        architecture,
        direction,
        f"{statistics.median(r.rate for r in raw.runs):,.0f}",
        f"{statistics.median(r.rate for r in routing.runs):,.0f}",
        f"{statistics.median(ratios):.2f}",
        f"{ratios[0]:.2f}-{ratios[-1]:.2f}",
        f"{statistics.median(r.cpu_us for r in raw.runs):.1f}",
        f"{statistics.median(r.cpu_us for r in routing.runs):.1f}",
    )


def bench(name: str, n: int, size: int, rounds: int, log: Callable[[str], None]) -> list[tuple[str, ...]]:
    plan = plan_for(name)
    emulation = stack.up(plan, base_port=ports.free_base(stack.ports_needed(plan)), root=ROOT, log=log)
    try:
        here, other = _regions(plan)
        s = Setup(
            plan,
            emulation.bootstrap(),
            emulation.client(here),
            emulation.admin(),
            next(iter(plan.config.events)),
            here,
            other,
            bool(plan.routing[here].header_filter),
            _messages(n, size),
        )
        raw_p, routing_p = _rounds(rounds, lambda: produce_raw(s), lambda: produce_routing(s))
        log(f"{name}: {'  '.join(_row(plan.architecture.value, 'produce', raw_p, routing_p))}")
        contract = plan.routing[here]
        # Every run's messages, and the two warm-up messages of every round with header routing (same topic).
        runs = 2 * rounds
        wait_for_topic(
            s.bootstrap[contract.consume_cluster],
            s.admin,
            contract.consume[s.event],
            runs * (n + (1 if s.shared else 0)),
        )
        kept = runs * s.kept_per_run
        raw_c, routing_c = _rounds(rounds, lambda: consume_raw(s, kept), lambda: consume_routing(s, kept))
        rows = [
            _row(plan.architecture.value, "produce", raw_p, routing_p),
            _row(plan.architecture.value, "consume", raw_c, routing_c),
        ]
        log(f"{name}: {'  '.join(rows[1])}")
        return rows
    finally:
        stack.down(plan.config.stack, root=ROOT, log=lambda m: None)
        # The brokers' data: a benchmark keeps nothing.
        shutil.rmtree(ROOT / plan.config.stack, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-client", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40_000, help="messages per producer run (default 40000)")
    parser.add_argument("--size", type=int, default=200, help="value bytes (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each side, each way (default 5)")
    parser.add_argument("stacks", nargs="*", default=list(STACKS), help="stack files (default: dev staging prod)")
    args = parser.parse_args(argv)
    if args.n < 2 or args.rounds < 1:
        parser.error("-n must be at least 2 and --rounds at least 1")
    jars.ensure(log=lambda m: print(m, file=sys.stderr))
    rows: list[Any] = []
    try:
        for name in args.stacks:
            rows += bench(name, args.n, args.size, args.rounds, lambda m: print(m, file=sys.stderr))
    except EmulatorError as e:
        print(f"bench-client: {e}", file=sys.stderr)
        return 1
    print(
        table(
            f"Routing client vs raw confluent-kafka ({args.n} x {args.size} B per producer run, {args.rounds} "
            f"rounds; medians; goal ratio >= {GOAL})",
            [
                "architecture",
                "direction",
                "raw msg/s",
                "routing msg/s",
                "ratio",
                "range",
                "raw us/msg",
                "routing us/msg",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
