"""`multicloud-kafka:kafkaAdmin`: validated at the edge, checked against the plan (infra/kafka_admin.py)."""

from __future__ import annotations

import pytest

from infra import kafka_admin
from infra.config import ConfigError
from infra.kafka_admin import KafkaAdmin
from infra.kinds import AdminPath
from tests.support.stacks import AWS_HUB, config_of, make_plan, raw_config


def _problems(value: object) -> list[str]:
    with pytest.raises(ConfigError) as e:
        config_of(raw_config("topic-per-region", AWS_HUB, kafkaAdmin=value))
    return [str(p) for p in e.value.problems]


def test_accepted_settings() -> None:
    cfg = config_of(raw_config("topic-per-region", AWS_HUB, kafkaAdmin={"from": "in-network"}))
    assert cfg.kafka_admin == KafkaAdmin(AdminPath.IN_NETWORK)
    role = "arn:aws:iam::123456789012:role/ci/kafka-admin"
    cfg = config_of(
        raw_config(
            "topic-per-region", AWS_HUB, kafkaAdmin={"from": "in-network", "region": "aws/us-west-2", "roleArn": role}
        )
    )
    assert cfg.kafka_admin == KafkaAdmin(AdminPath.IN_NETWORK, "aws/us-west-2", role)


@pytest.mark.parametrize(
    ("value", "key", "says"),
    [
        ({"from": "laptop"}, "kafkaAdmin.from", "in-network"),
        ({}, "kafkaAdmin.from", "in-network"),
        ({"from": "in-network", "region": "aws/eu-west-3"}, "kafkaAdmin.region", "keys of"),
        ({"from": "in-network", "roleArn": "kafka-admin"}, "kafkaAdmin.roleArn", "IAM role ARN"),
        ({"from": "in-network", "bootstrap": "b-1:9098"}, "kafkaAdmin.bootstrap", "known: from, region, roleArn"),
        ("in-network", "kafkaAdmin", "must be a map"),
    ],
)
def test_a_bad_value_is_refused_naming_the_key_the_value_and_the_fix(value: object, key: str, says: str) -> None:
    (problem,) = _problems(value)
    assert f"multicloud-kafka:{key}" in problem and says in problem


def test_the_runner_must_be_in_a_network_linked_to_each_cluster() -> None:
    plan = make_plan("regional-clusters", AWS_HUB, kafkaAdmin={"from": "in-network", "region": "gcp/europe-west1"})
    # The hub is linked to every spoke; a spoke's own cluster is not linked to another spoke.
    assert kafka_admin.problems(plan, ["aws/us-east-1"]) == []
    (problem,) = kafka_admin.problems(plan, ["aws/us-west-2"])
    assert "gcp/europe-west1" in problem and "aws/us-west-2" in problem and "kafkaAdmin.region" in problem
    assert kafka_admin.problems(plan, []) == []
