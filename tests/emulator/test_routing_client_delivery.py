"""Tier 4: the routing client never loses a message silently, on real Kafka.

One header-routing stack of its own (the dev stack file under another name),
because these tests kill and restart its broker: a broker outage longer than
the delivery timeout, producers that exit without flushing, consumers that
raise, die or close before confirming, and messages no region can take.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from emulator import ports, stack
from infra import access, stackfile
from infra.architectures import build_plan
from infra.plan import Plan
from routing_client import DeliveryError, Received, RoutingConsumer, RoutingProducer, Unroutable
from tests.support.emulation import run_python

ROOT = Path(__file__).resolve().parents[2]
NAME = "clientlab"
HERE = "gcp/europe-west1"
OTHER = "aws/us-east-1"
EVENT = "create_account"
TOPIC = "CREATE_ACCOUNT"
# The producer tests send tens of thousands of messages; the consumer tests, reading from the start, another event.
BULK_EVENT = "update_profile"
BULK_TOPIC = "UPDATE_PROFILE"
QUIET = {"log_level": 0}
# Short enough that an outage outlasts it within a test.
DELIVERY_TIMEOUT_MS = 3000
WAIT_S = 60


@pytest.fixture(scope="module")
def lab(kafka_jars, tmp_path_factory) -> Iterator[tuple[Plan, stack.Emulation, Path]]:
    root = tmp_path_factory.mktemp("client")
    plan = build_plan(stackfile.load(NAME, stackfile.stack_path("dev")))
    emulation = stack.up(plan, base_port=ports.free_base(stack.ports_needed(plan)), root=root, log=lambda m: None)
    try:
        yield plan, emulation, root
    finally:
        stack.down(NAME, root=root, log=lambda m: None)


def _contract(plan: Plan, region: str = HERE) -> dict:
    return plan.routing[region].to_dict()


def _keys_on(login: dict[str, str], bootstrap: str, topic: str, prefix: str) -> list[str]:
    """Every key starting with `prefix` in `topic`, read from the start to the end (bounded)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"audit-{uuid.uuid4().hex}", **login, **QUIET})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        positions = dict.fromkeys(parts, 0)
        keys: list[str] = []
        deadline = time.monotonic() + WAIT_S
        while any(positions[p] < ends[p] for p in parts):
            assert time.monotonic() < deadline, "could not read the topic to its end"
            for msg in c.consume(1000, timeout=0.5):
                if msg.error() is None:
                    positions[msg.partition()] = msg.offset() + 1
                    key = (msg.key() or b"").decode()
                    if key.startswith(prefix):
                        keys.append(key)
        return keys
    finally:
        c.close()


def _send(producer: RoutingProducer, run: str, phase: str, n: int, **kwargs) -> list[str]:
    keys = [f"{run}-{phase}-{i}" for i in range(n)]
    for key in keys:
        producer.send(BULK_EVENT, HERE, f"payload {key}".encode(), key=key, **kwargs)
    return keys


def test_a_broker_outage_longer_than_the_delivery_timeout_reports_every_message_lost(lab):
    """Sent minus arrived equals what the producer reported, message by message, with what a retry needs."""
    plan, emulation, root = lab
    bootstrap = emulation.bootstrap()
    hub = plan.config.hub.key
    run = uuid.uuid4().hex[:10]
    config = {"message.timeout.ms": DELIVERY_TIMEOUT_MS, **QUIET, **emulation.client(HERE)}
    with RoutingProducer(_contract(plan), bootstrap, config=config) as producer:
        before = _send(producer, run, "before", 200)
        assert producer.flush(30) == 0
        stack.stop_process(NAME, hub, worker=False, kill=True, root=root)
        own_reports: list[object] = []
        during = _send(producer, run, "during", 300)
        _send(producer, run, "owned", 5, on_delivery=lambda err, msg: own_reports.append(err))
        with pytest.raises(DeliveryError) as raised:
            producer.flush(30)
    # The messages with the caller's own callback were reported to it, not raised.
    assert len(own_reports) == 5 and all(e is not None for e in own_reports)
    stack.start_broker(NAME, hub, root=root)
    error = raised.value
    assert [f.key.decode() for f in error.failed] != [] and error.still_queued == 0
    assert sorted(f.key.decode() for f in error.failed) == sorted(during)
    assert error.reasons == {"Local: Message timed out (_MSG_TIMED_OUT)": 300}
    assert "300 messages not delivered" in str(error)
    assert all((f.event, f.destination, f.topic) == (BULK_EVENT, HERE, BULK_TOPIC) for f in error.failed)
    assert all(f.value == f"payload {f.key.decode()}".encode() for f in error.failed)
    assert all(dict(f.headers)["route-region"] == "europe-west1" for f in error.failed)

    sent = before + during
    arrived = set(_keys_on(emulation.admin(), bootstrap[hub], BULK_TOPIC, run))
    assert arrived <= set(sent)
    assert len(error.failed) == len(sent) - len(arrived)
    assert {f.key.decode() for f in error.failed} == set(sent) - arrived

    # What a retry needs: the failed messages sent again as reported, through a block that exits cleanly.
    with RoutingProducer(_contract(plan), bootstrap, config=config) as producer:
        for f in error.failed:
            producer.send(f.event, f.destination, f.value or b"", key=f.key, headers=dict(f.headers))
    arrived_now = _keys_on(emulation.admin(), bootstrap[hub], BULK_TOPIC, run)
    assert sorted(arrived_now) == sorted(sent)


def test_a_with_block_raises_for_what_failed_when_the_broker_is_down(lab):
    plan, emulation, root = lab
    hub = plan.config.hub.key
    run = uuid.uuid4().hex[:10]
    stack.stop_process(NAME, hub, worker=False, kill=True, root=root)
    try:
        producer = RoutingProducer(
            _contract(plan),
            emulation.bootstrap(),
            config={"message.timeout.ms": DELIVERY_TIMEOUT_MS, **QUIET, **emulation.client(HERE)},
        )
        with pytest.raises(DeliveryError) as raised, producer:
            keys = _send(producer, run, "down", 50)
    finally:
        stack.start_broker(NAME, hub, root=root)
    assert sorted(f.key.decode() for f in raised.value.failed) == sorted(keys)


def test_a_missing_topic_is_a_delivery_error(lab):
    plan, emulation, _ = lab
    contract = _contract(plan)
    contract["produce"][EVENT][HERE]["topic"] = "NOT_PLANNED"
    contract["consume"][EVENT] = "NOT_PLANNED"
    producer = RoutingProducer(
        contract,
        emulation.bootstrap(),
        config={"message.timeout.ms": DELIVERY_TIMEOUT_MS, **QUIET, **emulation.client(HERE)},
    )
    producer.send(EVENT, HERE, b"x", key="k")
    with pytest.raises(DeliveryError, match="1 message not delivered") as raised:
        producer.close()
    assert raised.value.failed[0].topic == "NOT_PLANNED"
    producer.close()


PRODUCE_AND_EXIT = """
import json, sys
from routing_client import RoutingProducer
contract, bootstrap, config, run, n, style = json.loads(sys.argv[1])
producer = RoutingProducer(contract, bootstrap, config)
if style == "with":
    with producer:
        for i in range(n):
            producer.send("update_profile", "gcp/europe-west1", b"v" * 100, key=f"{run}-{i}")
else:
    for i in range(n):
        producer.send("update_profile", "gcp/europe-west1", b"v" * 100, key=f"{run}-{i}")
"""


def _python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_python("-c", textwrap.dedent(code), *args, timeout=timeout)


@pytest.mark.parametrize("style", ["with", "forgotten"])
def test_a_script_that_exits_without_flushing_loses_nothing(lab, style):
    """20,000 messages, then the end of the script: the with block, or even no close at all, delivers them."""
    import json

    plan, emulation, _ = lab
    run = uuid.uuid4().hex[:10]
    n = 20000
    done = _python(
        PRODUCE_AND_EXIT,
        json.dumps([_contract(plan, OTHER), emulation.bootstrap(), emulation.client(OTHER), run, n, style]),
    )
    assert done.returncode == 0, done.stderr
    arrived = _keys_on(emulation.admin(), emulation.bootstrap()[plan.config.hub.key], BULK_TOPIC, run)
    assert len(arrived) == len(set(arrived)) == n


def _fresh_messages(plan: Plan, emulation: stack.Emulation, n: int) -> list[str]:
    run = uuid.uuid4().hex[:10]
    config = {**QUIET, **emulation.client(OTHER)}
    with RoutingProducer(_contract(plan, OTHER), emulation.bootstrap(), config=config) as producer:
        # Keyed alike: one partition, so the order is the send order.
        for i in range(n):
            producer.send(EVENT, HERE, f"{run}-{i}".encode(), key=run)
    return [f"{run}-{i}" for i in range(n)]


def _consumer(plan: Plan, emulation: stack.Emulation, group: str, **config: object) -> RoutingConsumer:
    """A consumer of HERE's services, logged in as them, in `group` under their group prefix."""
    return RoutingConsumer(
        _contract(plan),
        emulation.bootstrap(),
        f"{access.group_prefix(plan.config.regions[HERE])}{group}",
        events=[EVENT],
        config={**QUIET, **emulation.client(HERE), **config},
    )


def _drain(consumer: RoutingConsumer, want: set[str], run: str) -> list[str]:
    """Values of this run the consumer processes (confirming each) until it has all of `want` (bounded)."""
    got: list[str] = []

    def take(r: Received) -> None:
        value = (r.value() or b"").decode()
        if value.startswith(run):
            got.append(value)

    deadline = time.monotonic() + WAIT_S
    while not want <= set(got):
        assert time.monotonic() < deadline, f"missing {sorted(want - set(got))[:5]}"
        consumer.process(take, 0.5)
    return got


def test_a_handler_that_raises_gets_its_message_again_here_and_in_the_next_consumer(lab):
    plan, emulation, _ = lab
    sent = _fresh_messages(plan, emulation, 10)
    run = sent[0].rsplit("-", 1)[0]
    group = f"raise-{run}"
    seen: list[str] = []

    def fail_on_fourth(r: Received) -> None:
        value = (r.value() or b"").decode()
        if not value.startswith(run):
            return
        seen.append(value)
        if value == sent[3] and not r.redelivered:
            raise ValueError("processing failed")

    consumer = _consumer(plan, emulation, group)
    deadline = time.monotonic() + WAIT_S
    with pytest.raises(ValueError):
        while True:
            assert time.monotonic() < deadline
            consumer.process(fail_on_fourth, 0.5)
    # The same consumer: the failed message comes back, marked, then the rest.
    while set(seen) != set(sent):
        assert time.monotonic() < deadline
        consumer.process(fail_on_fourth, 0.5)
    assert seen[:5] == [*sent[:4], sent[3]]
    assert consumer.redelivered == 1 and seen.count(sent[3]) == 2 and consumer.confirmed == consumer.received - 1
    consumer.close()

    # A handler that raises and a consumer closed right after: the group's next consumer starts at that message.
    second = f"{group}-b"
    consumer = _consumer(plan, emulation, second)
    seen.clear()
    with pytest.raises(ValueError):
        while True:
            assert time.monotonic() < deadline
            consumer.process(fail_on_fourth, 0.5)
    consumer.close()
    with _consumer(plan, emulation, second) as consumer:
        again = _drain(consumer, set(sent[3:]), run)
    assert again == sent[3:]
    duplicates = len(set(seen) & set(again))
    assert duplicates == 1


def test_closing_before_confirming_hands_the_message_to_the_next_consumer(lab):
    plan, emulation, _ = lab
    sent = _fresh_messages(plan, emulation, 10)
    run = sent[0].rsplit("-", 1)[0]
    group = f"close-{run}"
    first: list[str] = []
    with _consumer(plan, emulation, group) as consumer:
        deadline = time.monotonic() + WAIT_S
        while len(first) < 5:
            assert time.monotonic() < deadline
            got = consumer.poll(0.5)
            if got is None:
                continue
            if not (got.value() or b"").startswith(run.encode()):
                consumer.confirm(got)
                continue
            first.append((got.value() or b"").decode())
            # The first three processed and confirmed; the fourth and fifth only polled.
            if len(first) <= 3:
                consumer.confirm(got)
        consumer.commit()
    with _consumer(plan, emulation, group) as consumer:
        second = _drain(consumer, set(sent[3:]), run)
    assert first == sent[:5]
    assert second == sent[3:]
    assert len(set(first) & set(second)) == 2


KILLED_CONSUMER = """
import json, sys, time
from routing_client import RoutingConsumer
contract, bootstrap, login, group, run, stuck = json.loads(sys.argv[1])
# The group notices the death within the session timeout (6 s, the brokers' minimum).
consumer = RoutingConsumer(contract, bootstrap, group, events=["create_account"],
                           config={"auto.commit.interval.ms": 500, "session.timeout.ms": 6000, "log_level": 0, **login})

def handle(r):
    value = r.value().decode()
    if not value.startswith(run):
        return
    print(value, flush=True)
    if value == stuck:
        time.sleep(600)

while True:
    consumer.process(handle, 0.5)
"""


def test_a_consumer_killed_mid_message_leaves_it_and_everything_unconfirmed_to_the_next(lab):
    import json

    plan, emulation, _ = lab
    bootstrap = emulation.bootstrap()
    sent = _fresh_messages(plan, emulation, 40)
    run = sent[0].rsplit("-", 1)[0]
    group = f"kill-{run}"
    stuck = sent[25]
    prefixed = f"{access.group_prefix(plan.config.regions[HERE])}{group}"
    args = json.dumps([_contract(plan), bootstrap, emulation.client(HERE), prefixed, run, stuck])
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_CONSUMER, args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    first: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + WAIT_S
        while stuck not in first:
            assert time.monotonic() < deadline and proc.poll() is None
            first.append(proc.stdout.readline().strip())
        # Long enough for a background commit of what was confirmed.
        time.sleep(1.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with _consumer(plan, emulation, group) as consumer:
        second = _drain(consumer, set(sent) - set(first) | {stuck}, run)
    assert first == sent[:26]
    # Nothing lost; what the killed one was processing comes again, and nothing confirmed and committed does.
    assert set(first) | set(second) == set(sent)
    assert second[0] == stuck and second == sent[25:]
    duplicates = len(set(first) & set(second))
    assert duplicates == 1


def test_unroutable_messages_are_counted_apart_and_reach_the_hook(lab):
    plan, emulation, _ = lab
    bootstrap = emulation.bootstrap()
    run = uuid.uuid4().hex[:10]
    bad = {
        "none": [],
        "cloud only": [("route-cloud", b"gcp")],
        "upper-case cloud": [("route-cloud", b"GCP"), ("route-region", b"europe-west1")],
        "unknown region": [("route-cloud", b"gcp"), ("route-region", b"mars-1")],
        "twice": [("route-cloud", b"gcp"), ("route-region", b"europe-west1"), ("route-region", b"us-east-1")],
        "not utf-8": [("route-cloud", b"gcp"), ("route-region", b"\xff\xfe")],
    }
    good = {
        HERE: [("route-cloud", b"gcp"), ("route-region", b"europe-west1")],
        OTHER: [("route-cloud", b"aws"), ("route-region", b"us-east-1")],
    }
    p = Producer({"bootstrap.servers": bootstrap[plan.config.hub.key], **emulation.client(OTHER), **QUIET})
    # One partition for the lot (same key), so the order is known.
    for name, headers in [*bad.items(), *good.items()]:
        p.produce(TOPIC, f"{run}:{name}".encode(), key=run, headers=headers)
    assert p.flush(10) == 0

    for region in (HERE, OTHER):
        hooked: list[Unroutable] = []
        kept: list[str] = []
        with RoutingConsumer(
            _contract(plan, region),
            bootstrap,
            f"{access.group_prefix(plan.config.regions[region])}hook-{run}",
            events=[EVENT],
            config={**QUIET, **emulation.client(region)},
            on_unroutable=hooked.append,
        ) as consumer:
            deadline = time.monotonic() + WAIT_S
            ours: list[Unroutable] = []
            while f"{run}:{region}" not in kept or len(ours) < len(bad):
                assert time.monotonic() < deadline
                consumer.process(lambda r, kept=kept: kept.append((r.value() or b"").decode()), 0.5)
                ours = [h for h in hooked if (h.message.value() or b"").startswith(run.encode())]
            assert [(h.message.value() or b"").decode() for h in ours] == [f"{run}:{n}" for n in bad]
            assert consumer.unroutable >= len(bad)
            assert [k for k in kept if k.startswith(run)] == [f"{run}:{region}"]
            reasons = {(h.message.value() or b"").decode().split(":", 1)[1]: h.reason for h in ours}
    assert reasons["none"] == "no route-cloud, route-region header"
    assert reasons["cloud only"] == "no route-region header"
    assert reasons["upper-case cloud"] == "route-cloud='GCP', route-region='europe-west1' names no region of the stack"
    assert "route-region='mars-1'" in reasons["unknown region"]
    assert reasons["twice"] == "route header route-region given more than once"
    assert "names no region" in reasons["not utf-8"]


def test_route_headers_among_other_headers_or_in_another_order_are_routed_all_the_same(lab):
    """The consumer settles most messages by comparing the route headers as its producer writes them; a
    caller's own headers or another producer's header order take the header-by-header path, same answer."""
    plan, emulation, _ = lab
    bootstrap = emulation.bootstrap()
    run = uuid.uuid4().hex[:10]
    sent = {
        "exact": [("route-cloud", b"gcp"), ("route-region", b"europe-west1")],
        "other, reordered": [("route-region", b"us-east-1"), ("route-cloud", b"aws")],
        "reordered": [("route-region", b"europe-west1"), ("route-cloud", b"gcp")],
        "other, traced": [("route-cloud", b"aws"), ("route-region", b"us-east-1"), ("trace-id", b"t2")],
        "traced": [("trace-id", b"t1"), ("route-cloud", b"gcp"), ("route-region", b"europe-west1")],
    }
    p = Producer({"bootstrap.servers": bootstrap[plan.config.hub.key], **emulation.client(OTHER), **QUIET})
    # One partition for the lot (same key), so the order is known.
    for name, headers in sent.items():
        p.produce(TOPIC, f"{run}:{name}".encode(), key=run, headers=headers)
    assert p.flush(10) == 0
    hooked: list[Unroutable] = []
    kept: list[str] = []
    with _consumer(plan, emulation, f"order-{run}") as consumer:
        consumer.on_unroutable = hooked.append
        deadline = time.monotonic() + WAIT_S
        while f"{run}:traced" not in kept:
            assert time.monotonic() < deadline
            consumer.process(lambda r: kept.append((r.value() or b"").decode()), 0.5)
    assert [k for k in kept if k.startswith(run)] == [f"{run}:exact", f"{run}:reordered", f"{run}:traced"]
    assert not [h for h in hooked if (h.message.value() or b"").startswith(run.encode())]


def test_a_hook_that_raises_gets_the_message_again(lab):
    plan, emulation, _ = lab
    bootstrap = emulation.bootstrap()
    run = uuid.uuid4().hex[:10]
    p = Producer({"bootstrap.servers": bootstrap[plan.config.hub.key], **emulation.client(OTHER), **QUIET})
    p.produce(TOPIC, f"{run}:dead".encode(), key=run)
    p.produce(
        TOPIC, f"{run}:good".encode(), key=run, headers=[("route-cloud", b"gcp"), ("route-region", b"europe-west1")]
    )
    assert p.flush(10) == 0
    calls: list[str] = []

    def dead_letter(u: Unroutable) -> None:
        value = (u.message.value() or b"").decode()
        calls.append(value)
        if calls.count(value) == 1 and value.startswith(run):
            raise OSError("dead-letter topic unreachable")

    kept: list[str] = []
    with _consumer(plan, emulation, f"hookfail-{run}") as consumer:
        consumer.on_unroutable = dead_letter
        deadline = time.monotonic() + WAIT_S
        failures = 0
        while f"{run}:good" not in kept:
            assert time.monotonic() < deadline
            try:
                consumer.process(lambda r: kept.append((r.value() or b"").decode()), 0.5)
            except OSError:
                failures += 1
    assert failures == 1 and [c for c in calls if c.startswith(run)] == [f"{run}:dead"] * 2
