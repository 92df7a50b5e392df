"""Kafka tier: real brokers, real traffic through the routing client, counts asserted."""

from __future__ import annotations

import time

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource

from emulator import connect, ports
from emulator.traffic import run_traffic
from infra import access

MESSAGES = 1200
SIZE = 200


@pytest.fixture(
    params=["dev_up", "staging_up", "prod_up"], ids=["header-routing", "topic-per-region", "regional-clusters"]
)
def running(request):
    return request.getfixturevalue(request.param)


def test_every_message_reaches_exactly_its_regions_consumer(running):
    plan, emulation = running
    result = run_traffic(
        plan, emulation.bootstrap(), MESSAGES, clients=emulation.clients(plan), seed=11, size=SIZE, timeout=60
    )

    assert result.complete and result.delivery_failures == 0
    assert set(result.regions) == set(plan.config.regions)
    addressed = [r.addressed_ids for r in result.regions.values()]
    assert sum(map(len, addressed)) == MESSAGES
    assert set().union(*addressed) == set(range(MESSAGES))
    for region, r in result.regions.items():
        assert r.addressed > 0, f"seed 11 should address every region; {region} got none"
        assert r.received_ids == r.addressed_ids, region
        assert (r.received, r.duplicates, r.misrouted, r.stale) == (r.addressed, 0, 0, 0), region
        filtered = bool(plan.routing[region].header_filter)
        # Header routing: every region reads every message and drops the others'.
        assert r.ignored == (MESSAGES - r.addressed if filtered else 0), region
        pulled = MESSAGES if filtered else r.addressed
        assert pulled * SIZE <= r.fetched_bytes < (pulled + MESSAGES // 10) * 2 * SIZE, region
        assert len(r.latencies_ms) == r.addressed and r.latency(0.99) is not None
        # Regional clusters: a region other than the hub's reads its own cluster, fed by MirrorMaker 2.
        assert r.mirrored == (plan.routing[region].consume_cluster != plan.config.hub.key), region
        assert len(r.mirror_lags_ms) == (r.addressed if r.mirrored else 0), region


def test_planned_topics_exist_with_their_settings_and_replication_clamped_to_one(running):
    plan, emulation = running
    for key, planned in plan.topics.items():
        admin = AdminClient({"bootstrap.servers": emulation.clusters[key].bootstrap, **emulation.admin()})
        md = admin.list_topics(timeout=10)
        assert set(planned) <= set(md.topics)
        assert not {t for t in md.topics if not connect.internal(t)} - set(planned)
        resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in planned]
        for res, future in admin.describe_configs(resources).items():
            settings = planned[res.name].settings
            config = {k: v.value for k, v in future.result(timeout=10).items()}
            assert len(md.topics[res.name].partitions) == settings.partitions
            assert all(len(p.replicas) == 1 for p in md.topics[res.name].partitions.values())
            assert config["retention.ms"] == str(settings.retention_ms)
            assert config["cleanup.policy"] == settings.cleanup_policy
            assert config["min.insync.replicas"] == "1"


def test_producing_to_a_topic_outside_the_plan_fails(dev_up):
    """Only the plan creates topics, as in the cloud (auto-creation is off): not even the emulator's super user can."""
    from confluent_kafka import Producer

    _, emulation = dev_up
    errors = []
    p = Producer(
        {
            "bootstrap.servers": next(iter(emulation.bootstrap().values())),
            "message.timeout.ms": 3000,
            **emulation.admin(),
        }
    )
    p.produce("NOT_PLANNED", b"x", on_delivery=lambda err, msg: errors.append(err))
    p.flush(10)
    assert len(errors) == 1 and errors[0] is not None


def test_route_headers_win_over_caller_headers_and_other_headers_pass(dev_up):
    from routing_client import RoutingConsumer, RoutingProducer

    plan, emulation = dev_up
    bootstrap = emulation.bootstrap()
    key = f"spoof-{time.time_ns()}"
    producer = RoutingProducer(plan.routing["aws/us-east-1"].to_dict(), bootstrap, emulation.client("aws/us-east-1"))
    producer.send(
        "update_profile", "gcp/europe-west1", b"x", key=key, headers={"route-region": "us-east-1", "trace-id": "t1"}
    )
    assert producer.flush(10) == 0
    consumers = {
        r: RoutingConsumer(
            plan.routing[r].to_dict(),
            bootstrap,
            f"{access.group_prefix(plan.config.regions[r])}spoof-{key}",
            events=["update_profile"],
            config=emulation.client(r),
        )
        for r in plan.config.regions
    }
    try:
        found = {r: _find(c, key) for r, c in consumers.items()}
    finally:
        for c in consumers.values():
            c.close()
    assert found["aws/us-east-1"] is None
    headers = found["gcp/europe-west1"].headers()
    assert headers["route-region"] == b"europe-west1" and headers["trace-id"] == b"t1"


def _find(consumer, key: str, timeout: float = 15):
    """The message with `key` among those the consumer keeps, reading to the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = consumer.poll(1.0)
        if got is None:
            if consumer.assigned:
                return None
            continue
        if got.message.key() == key.encode():
            return got
    raise TimeoutError(f"consumer did not reach the end of its topics within {timeout} s")


def test_a_stack_already_up_is_not_started_twice(dev_up, emulator_root):
    from emulator import stack
    from emulator.errors import EmulatorError

    plan, emulation = dev_up
    with pytest.raises(EmulatorError, match="already up on the emulator"):
        stack.up(plan, base_port=ports.free_base(2), root=emulator_root, log=lambda m: None)
    assert all(emulation.alive().values())
