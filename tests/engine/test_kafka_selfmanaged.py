"""Tier 5: `pulumi up` makes a self-managed region's topics, SCRAM logins and ACLs on real Kafka.

A small regional-clusters stack: a GCP hub and one self-managed region, so
the only pulumi-kafka provider is the region's administrator and the
stand-in (tests/support/engine/kafka.py; docs/engine.md) starts one broker.
The stand-in logs in to that broker as its own super user rather than as the
region's `adminUser`, so the administrator's login itself is the operator's
to prove; everything the stack makes through it is made and checked here
for real, down to the services' login with the password the stack exports.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
from pulumi import automation as auto

from infra import access, kafka_acls, naming
from tests.engine.test_kafka_acls import TIMEOUT_S, _first_error, _on_broker, _planned
from tests.support.engine import kafka
from tests.support.engine.driver import PROJECT, EngineBed, real_providers
from tests.support.stacks import ADMIN_PASSWORD, ADMIN_PASSWORD_KEY, SELF_MANAGED_KEY, self_managed_region

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(real_providers(), reason="the stand-in's broker stands for the self-managed cluster"),
]

STACK = "selfmanaged"
HUB = "gcp/europe-west1"


@pytest.fixture(scope="module")
def up(bed: EngineBed) -> EngineBed:
    """The stack, deployed once: `dev`'s file with a GCP hub and a self-managed region, unprotected."""
    bed.add_stack_file(
        STACK,
        "dev",
        architecture="regional-clusters",
        hub=HUB,
        regions={HUB: {"cidr": "10.30.0.0/16"}, SELF_MANAGED_KEY: self_managed_region(tls=False)},
        # The stand-in's cluster is one broker, and Kafka refuses a topic it cannot replicate as asked.
        topicDefaults={"partitions": 3, "replicationFactor": 1, "minInsyncReplicas": 1},
    )
    bed.stack(STACK).set_config(f"{PROJECT}:{ADMIN_PASSWORD_KEY}", auto.ConfigValue(value=ADMIN_PASSWORD, secret=True))
    bed.up(STACK)
    return bed


def _admin(bed: EngineBed) -> tuple[str, AdminClient]:
    plan = bed.plan(STACK)
    name = f"{plan.clusters[SELF_MANAGED_KEY].name}-admin"
    (provider,) = [
        r for r in bed.state(STACK) if r["type"] == "pulumi:providers:kafka" and r["urn"].endswith(f"::{name}")
    ]
    address = bed.kafka_brokers()[kafka.cluster_key(provider["inputs"])]
    return address, AdminClient(kafka.client_config(address))


def test_up_makes_the_regions_topics_logins_and_acls_on_real_kafka(up: EngineBed) -> None:
    plan = up.plan(STACK)
    _address, admin = _admin(up)
    topics = plan.topics[SELF_MANAGED_KEY]
    listed = admin.list_topics(timeout=TIMEOUT_S).topics
    for name, topic in topics.items():
        assert len(listed[name].partitions) == topic.settings.partitions
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        configs = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
        assert {k: configs[k].value for k in topic.settings.kafka_config()} == topic.settings.kafka_config()
    described = admin.describe_user_scram_credentials(list(plan.logins(SELF_MANAGED_KEY)))
    for login, future in described.items():
        assert [c.mechanism.name for c in future.result(timeout=TIMEOUT_S).scram_credential_infos] == [
            "SCRAM_SHA_512"
        ], login
    assert _on_broker(admin) == _planned(kafka_acls.acls(plan)[SELF_MANAGED_KEY])
    # A second up changes nothing.
    assert up.up(STACK).changed() == []


def test_the_services_login_the_stack_exports_reads_its_topics_and_nothing_more(up: EngineBed) -> None:
    plan = up.plan(STACK)
    address, _ = _admin(up)
    region = plan.config.regions[SELF_MANAGED_KEY]
    login = up.cli_json(STACK, "stack", "output", "access", "--show-secrets", "--json")[SELF_MANAGED_KEY]["scramLogin"]
    assert login["username"] == access.scram_username(region)
    as_services = kafka.client_config(address, login["username"], login["password"])
    own = naming.region_topic("create_account", region)
    group = f"{access.group_prefix(region)}engine"

    # Allowed: read its own topic in its own group (nothing there yet: no error within the wait).
    reader = Consumer({**as_services, "group.id": group, "auto.offset.reset": "earliest"})
    reader.assign([TopicPartition(own, 0)])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = reader.poll(0.5)
        assert msg is None or msg.error() is None or msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
    reader.close()

    # Denied: write to it (only the flow from the hub does).
    producer = Producer({**as_services, "message.timeout.ms": TIMEOUT_S * 1000})
    delivered: list[KafkaError | None] = []
    producer.produce(own, b"not mine to write", on_delivery=lambda err, _msg: delivered.append(err))
    producer.flush(TIMEOUT_S)
    assert len(delivered) == 1 and delivered[0] is not None
    assert delivered[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, delivered[0]

    # Denied: a group outside its prefix.
    stranger = Consumer({**as_services, "group.id": "gcp-europe-west1.reader", "auto.offset.reset": "earliest"})
    stranger.subscribe([own])
    error = _first_error(stranger)
    stranger.close()
    assert error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, error

    # A wrong password is refused: the client reports Kafka's authentication failure and gets no metadata.
    errors: list[KafkaError] = []
    wrong = AdminClient(
        {**kafka.client_config(address, login["username"], "wrong-password"), "error_cb": errors.append}
    )
    with pytest.raises(KafkaException):
        wrong.list_topics(timeout=10)
    deadline = time.monotonic() + TIMEOUT_S
    while not errors and time.monotonic() < deadline:
        # Errors reach error_cb when the client is polled.
        wrong.poll(0.5)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
