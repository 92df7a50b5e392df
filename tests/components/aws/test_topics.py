"""Topics of one MSK cluster under mocks: names, settings, protection."""

import json

import pulumi
import pulumi_aws as aws
import pytest

from infra.components.aws.topics import MskTopics, MskTopicsArgs
from infra.config import TopicSettings
from infra.plan import Topic

TOPICS = {
    "CREATE_ACCOUNT_AWS_US_WEST_2": Topic(
        "CREATE_ACCOUNT_AWS_US_WEST_2", "create_account", "aws/us-west-2", TopicSettings(partitions=12)
    ),
    "DELETE_ACCOUNT": Topic(
        "DELETE_ACCOUNT",
        "delete_account",
        None,
        TopicSettings(replication_factor=3, min_insync_replicas=2, retention_ms=-1, cleanup_policy="compact"),
    ),
}


def build(protect=True):
    def program():
        provider = aws.Provider("east", region="us-east-1")
        MskTopics("c-topics", MskTopicsArgs("arn:cluster", TOPICS, protect), pulumi.ResourceOptions(provider=provider))

    return program


def test_one_msk_topic_per_planned_topic_with_its_settings(run):
    reg, _, _ = run(build())
    topics = {t.inputs["name"]: t for t in reg.of_type("aws:msk/topic:Topic")}
    assert set(topics) == set(TOPICS)
    for name, planned in TOPICS.items():
        t = topics[name].inputs
        assert t["clusterArn"] == "arn:cluster"
        assert t["partitionCount"] == planned.settings.partitions
        assert t["replicationFactor"] == planned.settings.replication_factor
        assert json.loads(t["configs"]) == planned.settings.kafka_config()
    assert json.loads(topics["DELETE_ACCOUNT"].inputs["configs"])["retention.ms"] == "-1"


@pytest.mark.parametrize("protect", [True, False])
def test_topics_are_retained_on_delete_and_protected_when_asked(run, protect):
    reg, _, _ = run(build(protect))
    for t in reg.of_type("aws:msk/topic:Topic"):
        assert (t.protect, t.retain_on_delete) == (protect, True)


def test_topics_are_children_of_the_component_in_its_region(run):
    reg, _, _ = run(build())
    component = reg.one(MskTopics.TYPE)
    for t in reg.of_type("aws:msk/topic:Topic"):
        assert t.parent == component.urn
        assert t.name == f"c-topics-{t.inputs['name']}"
        assert reg.provider_region(t) == "us-east-1"
