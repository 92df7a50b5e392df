"""Kafka tier: the standby hub on real Kafka. The hub killed mid-stream, failback, and a failover on command.

One regional-clusters stack (hub aws/us-east-1, standby and a regional
cluster in aws/us-west-2) is brought up once for the module; the tests run in
order on it: the hub is killed and the clients and mirror flows fail over;
then the hub comes back and gets what the standby accepted; then, the hub
active again, the clients are told to fail over while both hubs run.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient

from emulator import failover
from emulator.demo import _hub_kill
from emulator.traffic import run_ids_on, run_traffic
from routing_client.failover import PRIMARY, FailoverConsumer, FailoverProducer
from tests.support.emulation import running
from tests.support.stacks import config_of, raw_config

HUB = "aws/us-east-1"
SPOKE = "aws/us-west-2"
STANDBY_KEY = f"{SPOKE}/standby"
REGIONS = {HUB: {"cidr": "10.10.0.0/16"}, SPOKE: {"cidr": "10.20.0.0/16"}}
AFTER_S = 3
WAIT_S = 90
QUIET = {"log_level": 0}
# Each region's services may join only groups under their prefix.
GROUPS = {HUB: "aws-us-east-1.", SPOKE: "aws-us-west-2."}


@pytest.fixture(scope="module")
def standby_up(kafka_jars, emulator_root):
    cfg = config_of(
        raw_config(
            "regional-clusters",
            REGIONS,
            HUB,
            {"create_account": {"partitions": 3}},
            standbyHub=SPOKE,
            failoverAfterSeconds=AFTER_S,
        ),
        "fo-regional",
    )
    yield from running(cfg, emulator_root)


class Sent:
    """A run's messages: sends numbered messages to regions, keeps what each cluster acknowledged."""

    def __init__(self, producer: FailoverProducer):
        self.producer = producer
        self.run = uuid.uuid4().hex
        self.to: dict[int, str] = {}
        self.acked_by: dict[int, str] = {}
        self.failed: list = []

    def send(self, count: int, regions=(HUB, SPOKE)) -> list[int]:
        ids = []
        for _ in range(count):
            i = len(self.to)
            self.to[i] = regions[i % len(regions)]
            payload = json.dumps({"run": self.run, "id": i, "to": self.to[i]}).encode()
            cluster = self.producer.cluster
            self.producer.send(
                "create_account", self.to[i], payload, key=str(i), on_delivery=self._delivered(i, cluster)
            )
            ids.append(i)
        assert self.producer.flush(WAIT_S) == 0
        return ids

    def _delivered(self, i: int, cluster: str):
        def done(err, msg):
            if err is None:
                self.acked_by[i] = self.producer.cluster
            else:
                self.failed.append((i, err))

        return done

    def addressed(self, region: str, ids=None) -> set[int]:
        return {i for i, to in self.to.items() if to == region and (ids is None or i in ids)}


def _read(consumer: FailoverConsumer, run: str, want: set[int], timeout: float = WAIT_S) -> list[tuple[str, int]]:
    """(run, id) of every message handed out, in order, repeats kept, until every id of `run` in `want` came."""
    got: list[tuple[str, int]] = []
    mine: set[int] = set()
    deadline = time.monotonic() + timeout
    while not want <= mine:
        assert time.monotonic() < deadline, f"missing {sorted(want - mine)[:10]} after {timeout} s"
        r = consumer.poll(0.5)
        if r is None:
            continue
        payload = json.loads(r.value() or b"{}")
        got.append((payload.get("run", ""), payload.get("id", -1)))
        if payload.get("run") == run:
            mine.add(payload["id"])
        consumer.confirm(r)
    return got


def _ids(got: list[tuple[str, int]], run: str) -> set[int]:
    return {i for r, i in got if r == run}


def test_a_hub_that_answers_is_never_left_for_the_standby(standby_up):
    """Runs first, while the hub runs. The watch logs in as the client: a SASL broker refuses a probe without the login, which read as an outage."""
    plan, emulation = standby_up
    contract = plan.routing[HUB].to_dict()
    config = {**QUIET, **emulation.client(HUB)}
    producer = FailoverProducer(contract, emulation.bootstrap(), config)
    consumer = FailoverConsumer(
        contract, emulation.bootstrap(), f"{GROUPS[HUB]}watch-{uuid.uuid4().hex[:8]}", config=config
    )
    try:
        deadline = time.monotonic() + 2.5 * AFTER_S
        while time.monotonic() < deadline:
            producer.poll(0.2)
            consumer.poll(0.2)
        assert (producer.active, producer.failovers) == (PRIMARY, 0)
        assert (consumer.active, consumer.failovers) == (PRIMARY, 0)
    finally:
        producer.close()
        consumer.close()


def test_the_hub_killed_mid_stream_loses_nothing_it_replicated_and_every_region_receives_again(
    standby_up, emulator_root
):
    plan, emulation = standby_up
    kill = _hub_kill(plan, emulation, 2000, print, root=emulator_root)
    result = run_traffic(
        plan, emulation.bootstrap(), 2000, clients=emulation.clients(plan), seed=14, rate=500, timeout=WAIT_S, kill=kill
    )
    assert kill.error is None
    assert result.complete and result.delivery_failures == 0
    for r in result.regions.values():
        assert r.lost == 0 and r.misrouted == 0, r
    assert result.ok
    # Nothing the hub acknowledged is lost unless it had not reached the standby at the kill.
    assert len(kill.unreplicated) <= kill.lag_at_kill
    rto = kill.rto_s(result.regions)
    assert rto is not None
    assert failover.state("fo-regional", emulator_root)["active"] == STANDBY_KEY
    print(
        f"RTO {rto:.1f} s (producer on the standby after {kill.producer_failover_s:.1f} s, flows re-pointed after "
        f"{kill.repointed_s:.1f} s), RPO {len(kill.unreplicated)} (lag at kill {kill.lag_at_kill}), resent {kill.resent}"
    )


def test_failback_gives_the_old_hub_everything_the_standby_accepted(standby_up, emulator_root):
    plan, emulation = standby_up
    bootstrap = emulation.bootstrap()
    contract = plan.routing[HUB].to_dict()
    # Switched on command only: the restarted hub may be slow to answer while it catches up.
    producer = FailoverProducer(contract, bootstrap, {**QUIET, **emulation.client(HUB)}, watch=False)
    producer.failover()
    sent = Sent(producer)
    on_standby = sent.send(300)
    assert {sent.acked_by[i] for i in on_standby} == {STANDBY_KEY}

    failover.start_failback(plan, emulation, root=emulator_root, log=print)
    switched_ms = time.time_ns() // 1_000_000
    producer.failback()
    on_hub = sent.send(100)
    assert {sent.acked_by[i] for i in on_hub} == {HUB}
    failover.caught_up(plan, emulation, root=emulator_root)
    topics = list(plan.topics[HUB])
    assert set(on_standby) <= run_ids_on(bootstrap[HUB], emulation.admin(), topics, sent.run)

    # The hub region's services read the hub again: from the offsets synced back, nothing missed.
    consumer = FailoverConsumer(
        contract, bootstrap, f"{GROUPS[HUB]}fb-{sent.run[:8]}", config={**QUIET, **emulation.client(HUB)}, watch=False
    )
    consumer.failover()
    got = _read(consumer, sent.run, sent.addressed(HUB, on_standby))
    consumer.commit()
    consumer.failback()
    assert consumer.active == PRIMARY
    got += _read(consumer, sent.run, sent.addressed(HUB))
    consumer.close()
    assert _ids(got, sent.run) == sent.addressed(HUB)
    # Repeats are flagged. On failback the old hub interleaves the copied-back messages with the ones
    # produced to it since, so the count is not exact there (routing_client/README.md, failover).
    assert (consumer.duplicates > 0) == (len(got) > len(set(got)))

    failover.finish_failback(plan, emulation, switched_ms, root=emulator_root, log=print)
    assert failover.state("fo-regional", emulator_root) == {}
    after = sent.send(100)
    producer.close()
    assert {sent.acked_by[i] for i in after} == {HUB}
    # The regional cluster has everything addressed to it, through the standby and then the hub again.
    spoke = FailoverConsumer(
        plan.routing[SPOKE].to_dict(),
        bootstrap,
        f"{GROUPS[SPOKE]}fb-spoke-{sent.run[:8]}",
        config={**QUIET, **emulation.client(SPOKE)},
    )
    assert not spoke.moves
    assert _ids(_read(spoke, sent.run, sent.addressed(SPOKE)), sent.run) == sent.addressed(SPOKE)
    spoke.close()
    # And the standby gets the hub's messages again.
    deadline = time.monotonic() + WAIT_S
    while not set(after) <= run_ids_on(bootstrap[STANDBY_KEY], emulation.admin(), topics, sent.run):
        assert time.monotonic() < deadline, "the hub's messages did not reach the standby after failback"
        time.sleep(1)


def _synced(bootstrap: str, login: dict[str, str], group: str) -> int:
    """The sum of the group's committed offsets on a cluster (0 if none)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **login, **QUIET})
    result = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(10)
    return sum(tp.offset for tp in result.topic_partitions or [] if tp.offset > 0)


def test_a_failover_on_command_resumes_from_the_synced_offsets_and_counts_what_comes_again(standby_up):
    """Both hubs run; the clients are told to move. The group resumes on the standby from its translated offsets.

    MirrorMaker 2 translates a group's position once it is at or past an
    offset sync its checkpoint task knows (a task that restarts, as it does for
    a new group, knows only the latest sync of each partition), so the group
    reads the whole burst before it moves.
    """
    plan, emulation = standby_up
    bootstrap = emulation.bootstrap()
    contract = plan.routing[HUB].to_dict()
    producer = FailoverProducer(contract, bootstrap, {**QUIET, **emulation.client(HUB)}, watch=False)
    sent = Sent(producer)
    ids = sent.send(200, regions=(HUB,))
    group = f"{GROUPS[HUB]}cmd-{sent.run[:8]}"
    consumer = FailoverConsumer(contract, bootstrap, group, config={**QUIET, **emulation.client(HUB)}, watch=False)
    first = _read(consumer, sent.run, set(ids))
    consumer.commit()
    # MirrorMaker 2 translates the group's position onto the standby (every second on the emulator).
    deadline = time.monotonic() + WAIT_S
    while _synced(bootstrap[STANDBY_KEY], emulation.admin(), group) == 0:
        assert time.monotonic() < deadline, "the group's offsets never reached the standby"
        time.sleep(0.5)
    consumer.failover()
    producer.failover()
    more = sent.send(50, regions=(HUB,))
    assert {sent.acked_by[i] for i in more} == {STANDBY_KEY}
    rest = _read(consumer, sent.run, set(more))
    consumer.close()
    producer.close()
    got = first + rest
    assert _ids(got, sent.run) == set(ids) | set(more)
    # This run's messages handed out again. (The earlier tests' messages may be on the standby twice: the
    # failback resumes the hub->standby flow from a time, so it may forward some copied-back ones again.
    # Those are two records each, not a consumer's replay.)
    mine = [x for x in got if x[0] == sent.run]
    again = len(mine) - len(set(mine))
    # What came again is counted, and only that; a resume from the topic's start would repeat every earlier message.
    assert consumer.duplicates == again
    assert again < len(ids)
    print(f"failover on command: {again} handed out again")
