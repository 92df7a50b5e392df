"""Tier 5: `pulumi up` makes the plan's Kafka ACLs on real Kafka through the pulumi-kafka stand-in.

The stand-in (tests/support/engine/kafka.py; docs/engine.md) serves
pulumi-kafka's resource types and performs them through the Kafka admin
API on one real broker per cluster, which authorizes like MSK with the ACLs
(SCRAM clients, StandardAuthorizer, `allow.everyone.if.no.acl.found=false`).
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from infra import access, kafka_acls, naming
from infra.components.aws import msk
from infra.components.kafka.acls import OPERATIONS, PATTERNS, RESOURCE_TYPES
from tests.support.engine import kafka
from tests.support.engine.driver import EngineBed, real_providers

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(real_providers(), reason="the stand-in's brokers; real providers reach MSK itself"),
]

STACK = "staging"
TIMEOUT_S = 30
PASSWORD = "engine-test-login"


def _on_broker(admin: AdminClient) -> set[tuple[str, ...]]:
    """Every ACL binding on a broker, in pulumi-kafka's spelling."""
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    return {
        (
            b.principal,
            b.host,
            b.operation.name,
            b.permission_type.name,
            b.restype.name,
            b.name,
            b.resource_pattern_type.name,
        )
        for b in admin.describe_acls(everything, request_timeout=TIMEOUT_S).result(timeout=TIMEOUT_S)
    }


def _planned(entries: tuple[kafka_acls.Acl, ...]) -> set[tuple[str, ...]]:
    return {
        (
            a.principal,
            kafka_acls.HOST,
            kafka._enum(AclOperation, OPERATIONS[a.operation]).name,
            "ALLOW",
            kafka._enum(ResourceType, RESOURCE_TYPES[a.resource]).name,
            a.name,
            kafka._enum(ResourcePatternType, PATTERNS[a.pattern]).name,
        )
        for a in entries
    }


def _broker_of(bed: EngineBed, cluster_name: str) -> str:
    """The loopback address of the broker standing in for the cluster whose admin provider is `<name>-admin`."""
    (provider,) = [
        r
        for r in bed.state(STACK)
        if r["type"] == "pulumi:providers:kafka" and r["urn"].endswith(f"::{cluster_name}-admin")
    ]
    return bed.kafka_brokers()[kafka.cluster_key(provider["inputs"])]


def _first_error(consumer: Consumer) -> KafkaError | None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        msg = consumer.poll(1)
        if msg is not None and msg.error() is not None:
            return msg.error()
    return None


def test_up_makes_the_planned_acls_on_real_kafka_and_they_allow_and_deny(bed: EngineBed, deployed) -> None:
    deployed(STACK)
    plan = bed.plan(STACK)
    (key,) = msk.acl_clusters(plan)
    address = _broker_of(bed, plan.clusters[key].name)
    admin = AdminClient(kafka.client_config(address))
    want = _planned(kafka_acls.acls(plan)[key])
    assert _on_broker(admin) == want

    # A second up changes nothing, on the broker either.
    assert bed.up(STACK).changed() == []
    assert _on_broker(admin) == want

    # The parts MSK plays: the login's credential (Secrets Manager association) and the topics (its topic API).
    region = plan.config.regions["gcp/europe-west1"]
    login = access.scram_username(region)
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096)
    admin.alter_user_scram_credentials([UserScramCredentialUpsertion(login, info, PASSWORD.encode())])[login].result(
        timeout=TIMEOUT_S
    )
    topics = [t for t in plan.topics[key] if t.startswith("CREATE_ACCOUNT")]
    for future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
        future.result(timeout=TIMEOUT_S)
    own = naming.region_topic("create_account", region)
    other = naming.region_topic("create_account", plan.config.regions["aws/us-west-2"])
    as_login = kafka.client_config(address, login, PASSWORD)

    # Allowed: produce where its contract says.
    producer = Producer(as_login)
    delivered: list[KafkaError | None] = []
    producer.produce(other, b"for us-west-2", on_delivery=lambda err, _msg: delivered.append(err))
    assert producer.flush(TIMEOUT_S) == 0 and delivered == [None]

    # Denied: read another region's topic.
    thief = Consumer({**as_login, "group.id": f"{access.group_prefix(region)}reader", "auto.offset.reset": "earliest"})
    thief.assign([TopicPartition(other, 0)])
    error = _first_error(thief)
    thief.close()
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error

    # Denied: join a group outside its prefix, even on its own topic.
    stranger = Consumer({**as_login, "group.id": "aws-us-west-2.reader", "auto.offset.reset": "earliest"})
    stranger.subscribe([own])
    error = _first_error(stranger)
    stranger.close()
    assert error is not None and error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, error


def test_the_stand_in_makes_topics_and_scram_credentials_for_real(bed: EngineBed, deployed) -> None:
    """The other pulumi-kafka types the stand-in serves, on the broker `up` started (no second JVM)."""
    deployed(STACK)
    plan = bed.plan(STACK)
    (key,) = msk.acl_clusters(plan)
    address = _broker_of(bed, plan.clusters[key].name)
    admin = AdminClient(kafka.client_config(address))
    topic = {"name": "STANDIN_TOPIC", "partitions": 1, "replicationFactor": 1, "config": {"retention.ms": "60000"}}
    assert kafka.create(admin, kafka.TOPIC, topic) == "STANDIN_TOPIC"
    kafka.update(admin, kafka.TOPIC, topic, {**topic, "partitions": 3, "config": {"retention.ms": "120000"}})
    assert len(admin.list_topics(timeout=TIMEOUT_S).topics["STANDIN_TOPIC"].partitions) == 3
    resource = ConfigResource(ConfigResource.Type.TOPIC, "STANDIN_TOPIC")
    configs = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
    assert configs["retention.ms"].value == "120000"
    user = {"username": "standin-user", "password": PASSWORD, "scramMechanism": "SCRAM-SHA-512"}
    assert kafka.create(admin, kafka.SCRAM, user) == "standin-user|SCRAM-SHA-512"
    # The credential logs in (and, with no ACL, may see no topic).
    listed = AdminClient(kafka.client_config(address, "standin-user", PASSWORD)).list_topics(timeout=TIMEOUT_S)
    assert "STANDIN_TOPIC" not in listed.topics
    kafka.delete(admin, kafka.SCRAM, user)
    kafka.delete(admin, kafka.TOPIC, topic)
    deadline = time.monotonic() + TIMEOUT_S
    while "STANDIN_TOPIC" in admin.list_topics(timeout=TIMEOUT_S).topics and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "STANDIN_TOPIC" not in admin.list_topics(timeout=TIMEOUT_S).topics
    with pytest.raises(KafkaException):
        AdminClient(kafka.client_config(address, "standin-user", PASSWORD)).list_topics(timeout=5)
