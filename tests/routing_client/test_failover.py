"""The failover client's decisions, without a broker: when to switch sides, what counts as handed out again."""

import pytest
from confluent_kafka import KafkaError

from infra import stackfile
from infra.architectures import build_plan
from routing_client import DeliveryError, RoutingError
from routing_client.failover import (
    PRIMARY,
    STANDBY,
    FailoverConsumer,
    FailoverProducer,
    Outage,
    Replay,
    Sides,
    login_settings,
)
from tests.support.emulation import with_standby


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_due_only_after_after_seconds_without_an_answer():
    clock = Clock()
    outage = Outage(10, clock)
    clock.now += 9.9
    assert not outage.due
    outage.observe(False)
    clock.now += 0.1
    assert outage.due and outage.unreachable_for == pytest.approx(10)
    # One answer and the count starts again.
    outage.observe(True)
    assert not outage.due
    clock.now += 5
    outage.observe(False)
    assert not outage.due and outage.unreachable_for == pytest.approx(5)
    # A new side gets its own full time.
    clock.now += 20
    outage.restart()
    assert not outage.due


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_an_after_seconds_that_is_no_positive_time_is_refused(bad):
    with pytest.raises(RoutingError, match="afterSeconds"):
        Outage(bad)


def _fp(ts: int, n: int) -> tuple[int, bytes, bytes]:
    return (ts, str(n).encode(), f"v{n}".encode())


def test_replay_counts_up_to_the_last_message_handed_out_and_stops_there():
    tp = ("T", 0)
    replay = Replay({tp: (1000, [_fp(1000, 7)])})
    # The new side resumes a few messages back (the last offset sync before the group's position).
    assert [replay.seen(tp, _fp(t, n)) for t, n in [(990, 5), (995, 6), (1000, 7), (1000, 8), (1010, 9)]] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert replay.pending == {}


def test_replay_ends_at_a_later_message_when_the_last_one_never_reached_the_new_side():
    tp = ("T", 0)
    replay = Replay({tp: (1000, [_fp(1000, 7)])})
    assert replay.seen(tp, _fp(999, 6))
    # Message 7 was lost with the old hub (RPO): 8 is new to the service.
    assert not replay.seen(tp, _fp(1005, 8))
    assert not replay.seen(tp, _fp(990, 5))


def test_replay_tells_the_messages_of_the_last_millisecond_handed_out_from_those_that_were_not():
    tp = ("T", 0)
    # 6 and 7 were handed out in millisecond 1000; 8, of the same millisecond, was fetched but not handed out.
    replay = Replay({tp: (1000, [_fp(1000, 6), _fp(1000, 7)])})
    assert [replay.seen(tp, _fp(t, n)) for t, n in [(999, 5), (1000, 6), (1000, 7), (1000, 8)]] == [
        True,
        True,
        True,
        False,
    ]
    assert replay.pending == {}


def test_replay_leaves_partitions_the_consumer_never_read_alone():
    replay = Replay({("T", 0): (1000, [_fp(1000, 7)])})
    assert not replay.seen(("T", 1), _fp(10, 1))
    assert not replay.seen(("U", 0), _fp(10, 1))


def test_sides_name_the_standby_hub_for_producing_and_for_reading_a_hub():
    plan = build_plan(with_standby("staging", "gcp/europe-west1"))
    sides = Sides.of(plan.routing["aws/us-west-2"].to_dict(), None)
    hub, standby = plan.config.hub.key, "gcp/europe-west1/standby"
    assert sides.cluster(PRIMARY, "produceCluster") == hub
    assert sides.cluster(STANDBY, "produceCluster") == standby
    # topic-per-region: every region reads the hub, so it reads the standby after a failover.
    assert sides.cluster(STANDBY, "consumeCluster") == standby
    assert sides.after_seconds == plan.config.failover_after_seconds
    assert Sides.of(plan.routing["aws/us-west-2"].to_dict(), 3).after_seconds == 3


def test_a_region_reading_its_own_cluster_does_not_move():
    plan = build_plan(with_standby("prod", "aws/us-west-2"))
    contract = plan.routing["gcp/europe-west1"].to_dict()
    bootstrap = dict.fromkeys(plan.clusters, "127.0.0.1:1")
    consumer = FailoverConsumer(contract, bootstrap, "g", watch=False)
    try:
        assert not consumer.moves
        consumer.failover()
        assert consumer.active == PRIMARY and consumer.failovers == 0
    finally:
        consumer.close()


def test_a_contract_without_failover_is_refused_with_what_to_do():
    contract = build_plan(stackfile.load("staging")).routing["aws/us-west-2"].to_dict()
    with pytest.raises(RoutingError, match=r"no failover section.*standbyHub"):
        FailoverProducer(contract, {"aws/us-east-1": "127.0.0.1:1"})


def test_a_failover_on_command_switches_the_producer_and_keeps_every_message():
    """Nothing listens on the hub's address: the queued messages are given up there and sent to the standby."""
    plan = build_plan(with_standby("staging", "gcp/europe-west1"))
    bootstrap = dict.fromkeys(plan.clusters, "127.0.0.1:1")
    producer = FailoverProducer(plan.routing["aws/us-west-2"].to_dict(), bootstrap, watch=False)
    failures = []
    producer.send("create_account", "aws/us-west-2", b"a")
    producer.send("create_account", "aws/us-west-2", b"b", on_delivery=lambda err, msg: failures.append(err))
    producer.failover()
    assert producer.active == STANDBY and producer.cluster == "gcp/europe-west1/standby"
    assert producer.counters() == {"produced": 2, "errors": 0, "queued": 2, "failovers": 1, "resent": 2}
    # The caller's callback heard nothing: its message was not lost, only moved.
    assert failures == []
    producer.failover()
    assert producer.failovers == 1
    # Nothing listens on the standby's address either: closing gives up on both, and says so.
    with pytest.raises(DeliveryError, match="1 message not delivered"):
        producer.close(0.5)
    assert len(failures) == 1 and failures[0].code() == KafkaError._PURGE_QUEUE


def test_the_watch_logs_in_as_the_client_and_takes_nothing_else_of_its_settings():
    config = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "aws-us-west-2",
        "sasl.password": "secret",
        "ssl.ca.location": "/etc/ca.pem",
        "group.id": "g",
        "auto.offset.reset": "earliest",
        "stats_cb": print,
        "enable.idempotence": True,
    }
    assert login_settings(config) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "aws-us-west-2",
        "sasl.password": "secret",
        "ssl.ca.location": "/etc/ca.pem",
    }
