"""Tier 4: the routing client's counters, on real Kafka: what a service exports is what happened."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, TopicPartition

from emulator import lag
from infra import access
from routing_client import RoutingConsumer, RoutingProducer

QUIET = {"log_level": 0}
WAIT_S = 60


def _wait(check, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _actual_lag(bootstrap: str, login: dict[str, str], group: str, topic: str) -> dict[tuple[str, int], int]:
    """Per partition with a committed position: the partition's end minus that position, asked of the brokers."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, **login, **QUIET})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        committed = c.committed([TopicPartition(topic, p) for p in parts], timeout=10)
        return {
            (topic, tp.partition): ends[1] - tp.offset
            for tp in committed
            if tp.offset >= 0 and (ends := c.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10))
        }
    finally:
        c.close()


def test_counters_client_lag_and_status_lag_match_what_the_consumer_lags(staging_up):
    """`lag` is, per partition, the group's committed position behind the partition's end (librdkafka's
    consumer_lag): after confirming part of what it read, the consumer reports exactly what the brokers say."""
    plan, emulation = staging_up
    region = next(iter(plan.routing))
    contract = plan.routing[region].to_dict()
    event = next(iter(contract["consume"]))
    topic = contract["consume"][event]
    group = f"{access.group_prefix(plan.config.regions[region])}counters-{uuid.uuid4().hex[:8]}"
    bootstrap = emulation.bootstrap()
    login = emulation.client(region)
    with RoutingProducer(contract, bootstrap, config={**login, **QUIET}) as producer:
        for i in range(50):
            producer.send(event, region, f"m{i}".encode(), key=f"k{i}")
        assert producer.flush(30) == 0
        assert producer.counters() == {"produced": 50, "errors": 0, "queued": 0}
    consumer = RoutingConsumer(
        contract, bootstrap, group, events=[event], config={"statistics.interval.ms": 200, **login, **QUIET}
    )
    try:
        taken = []

        def take(enough: int = 30) -> bool:
            # Polling also serves librdkafka's statistics, which `lag` comes from.
            got = consumer.poll(0.1)
            if got is not None:
                taken.append(got)
            return len(taken) >= enough

        _wait(take, "30 messages")
        # Confirm the first message read of each partition: every partition read from is left behind its end.
        first = {}
        for received in taken:
            first.setdefault((received.message.topic(), received.message.partition()), received)
        for received in first.values():
            consumer.confirm(received)
        consumer.commit()
        cluster = contract["consumeCluster"]
        actual = _actual_lag(bootstrap[cluster], login, group, topic)
        assert actual and sum(actual.values()) > 0
        _wait(lambda: take(0) and consumer.lag == actual, f"the consumer's lag to be {actual}")
        # `./scripts/emulator status` reports the same lag for the group, from the brokers.
        (status,) = [g for g in lag.consumer_lag(plan, bootstrap, emulation.admin()) if g.group == group]
        assert dict(status.partitions) == actual and region in status.region
        c = consumer.counters()
        assert c["received"] == len(taken) and c["confirmed"] == len(first)
        assert c["errors"] == 0 and c["ignored"] == 0 and c["lag"] == sum(actual.values())
    finally:
        consumer.close()
