"""`./scripts/bench-client`: the routing client's throughput against raw confluent-kafka, per architecture.

For dev (header-routing), staging (topic-per-region) and prod
(regional-clusters), on a fresh emulator stack each (free loopback ports,
data under .emulator/bench-client/), one region's services:
- produce: `RoutingProducer.send` against a raw `Producer.produce` with the
  same route (topic and headers), the same settings (idempotent, acks=all)
  and a delivery callback counting failures, then flush;
- consume: `RoutingConsumer.poll` + `confirm` against a raw `Consumer.poll`
  that, for header routing, keeps only messages whose route headers are this
  region's (checked in plain code), and otherwise reads the region's topic.
With header routing half the messages are for another region, so both
consumers skip them. Each side runs `--rounds` times, alternating, on a new
consumer group; the best round of each is compared. Ratio = routing / raw.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from emulator import jars, ports, stack
from emulator.cli import plan_for
from emulator.errors import EmulatorError
from infra.plan import Plan
from infra.render import table
from routing_client import RoutingConsumer, RoutingProducer

ROOT = stack.DATA / "bench-client"
STACKS = ("dev", "staging", "prod")
QUIET = {"log_level": 0}
PRODUCER = {"enable.idempotence": True, "acks": "all", "linger.ms": 5, **QUIET}
CONSUMER = {"auto.offset.reset": "earliest", **QUIET}
WAIT_S = 120
GOAL = 0.9


def _regions(plan: Plan) -> tuple[str, str]:
    """The region whose services are measured, and another one to address the skipped half to."""
    keys = list(plan.routing)
    here = next(k for k in keys if k != plan.config.hub.key)
    return here, next(k for k in keys if k != here)


def _messages(n: int, size: int) -> list[tuple[bytes, bytes]]:
    return [(f"k{i}".encode(), (f"v{i}-".encode() * size)[:size]) for i in range(n)]


def produce_routing(
    plan: Plan, bootstrap: dict[str, str], event: str, dest: str, msgs: list[tuple[bytes, bytes]], region: str
) -> float:
    with RoutingProducer(plan.routing[region].to_dict(), bootstrap, config=PRODUCER) as p:
        start = time.perf_counter()
        for key, value in msgs:
            p.send(event, dest, value, key=key)
        left = p.flush(WAIT_S)
        took = time.perf_counter() - start
    if left or p.failed:
        raise EmulatorError(f"routing producer: {left} still queued, {p.failed} failed")
    return len(msgs) / took


def produce_raw(
    plan: Plan, bootstrap: dict[str, str], event: str, dest: str, msgs: list[tuple[bytes, bytes]], region: str
) -> float:
    contract = plan.routing[region]
    route = contract.produce[event][dest]
    headers: list[tuple[str, str | bytes | None]] | None = list(route.headers.items()) or None
    failed = [0]

    def report(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            failed[0] += 1

    p = Producer({"bootstrap.servers": bootstrap[contract.produce_cluster], **PRODUCER})
    start = time.perf_counter()
    for key, value in msgs:
        while True:
            try:
                p.produce(route.topic, value, key, on_delivery=report, headers=headers)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(WAIT_S)
    took = time.perf_counter() - start
    if left or failed[0]:
        raise EmulatorError(f"raw producer: {left} still queued, {failed[0]} failed")
    return len(msgs) / took


def _drain(poll: Callable[[], int], expected: int, what: str) -> float:
    """Messages per second from the first kept message to the `expected`-th."""
    kept, start = 0, 0.0
    deadline = time.monotonic() + WAIT_S
    while kept < expected:
        if time.monotonic() > deadline:
            raise EmulatorError(f"{what}: kept {kept} of {expected} within {WAIT_S} s")
        got = poll()
        if got and not start:
            start = time.perf_counter()
        kept += got
    return expected / (time.perf_counter() - start)


def wait_for_topic(bootstrap: str, topic: str, total: int) -> None:
    """Waits (bounded) until `topic` holds `total` messages, so mirroring never paces a consumer."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watermarks", **QUIET})
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


def consume_routing(plan: Plan, bootstrap: dict[str, str], event: str, region: str, expected: int) -> float:
    c = RoutingConsumer(
        plan.routing[region].to_dict(), bootstrap, f"bench-{uuid.uuid4().hex[:8]}", events=[event], config=CONSUMER
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


def consume_raw(plan: Plan, bootstrap: dict[str, str], event: str, region: str, expected: int) -> float:
    contract = plan.routing[region]
    mine = {k: v.encode() for k, v in contract.header_filter.items()}
    c = Consumer(
        {
            "bootstrap.servers": bootstrap[contract.consume_cluster],
            "group.id": f"bench-{uuid.uuid4().hex[:8]}",
            **CONSUMER,
        }
    )
    c.subscribe([contract.consume[event]])
    try:

        def poll() -> int:
            msg = c.poll(0.5)
            if msg is None or msg.error() is not None:
                return 0
            if mine:
                headers = dict(msg.headers() or ())
                if any(headers.get(k) != v for k, v in mine.items()):
                    return 0
            return 1

        return _drain(poll, expected, "raw consumer")
    finally:
        c.close()


def bench(name: str, n: int, size: int, rounds: int, log: Callable[[str], None]) -> list[Any]:
    plan = plan_for(name)
    root = ROOT
    emulation = stack.up(plan, base_port=ports.free_base(stack.ports_needed(plan)), root=root, log=log)
    try:
        bootstrap = emulation.bootstrap()
        here, other = _regions(plan)
        event = next(iter(plan.config.events))
        shared = bool(plan.routing[here].header_filter)
        best = {"produce routing": 0.0, "produce raw": 0.0, "consume routing": 0.0, "consume raw": 0.0}
        for r in range(rounds):
            for label, produce in (("produce raw", produce_raw), ("produce routing", produce_routing)):
                # Header routing: half for this region, half for another, on the same topic.
                mine = _messages(n // 2 if shared else n, size)
                rate = produce(plan, bootstrap, event, here, mine, here)
                if shared:
                    produce_raw(plan, bootstrap, event, other, _messages(n - n // 2, size), here)
                best[label] = max(best[label], rate)
            # Every round produced `n` for this region (n/2 with header routing) on each of two producers.
            kept = (r + 1) * 2 * (n // 2 if shared else n)
            contract = plan.routing[here]
            wait_for_topic(bootstrap[contract.consume_cluster], contract.consume[event], (r + 1) * 2 * n)
            for label, consume in (("consume raw", consume_raw), ("consume routing", consume_routing)):
                best[label] = max(best[label], consume(plan, bootstrap, event, here, kept) * 1.0)
            log(f"{name}: round {r + 1}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in best.items()))
        return [
            (
                plan.architecture,
                direction,
                f"{best[f'{direction} raw']:,.0f}",
                f"{best[f'{direction} routing']:,.0f}",
                f"{best[f'{direction} routing'] / best[f'{direction} raw']:.2f}",
            )
            for direction in ("produce", "consume")
        ]
    finally:
        stack.down(plan.config.stack, root=root, log=lambda m: None)
        # The brokers' data: a benchmark keeps nothing.
        shutil.rmtree(root / plan.config.stack, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-client", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40_000, help="messages per producer run (default 40000)")
    parser.add_argument("--size", type=int, default=200, help="value bytes (default 200)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side; the best counts (default 2)")
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
            f"Routing client vs raw confluent-kafka, messages/s ({args.n} x {args.size} B, best of "
            f"{args.rounds}; goal ratio >= {GOAL})",
            ["architecture", "direction", "raw", "routing", "ratio"],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
