"""MSK Replicator under mocks: identity replication of one flow's topics, least privilege."""

import json

import pulumi
import pulumi_aws as aws

from infra.components.aws.replicator import (
    MskEndpoint,
    MskReplication,
    MskReplicationArgs,
    execution_policy,
    role_name,
)

SOURCE = "arn:aws:kafka:us-east-1:123456789012:cluster/hub/u1"
TARGET = "arn:aws:kafka:us-west-2:123456789012:cluster/west/u2"
TOPICS = ["UPDATE_PROFILE_AWS_US_WEST_2", "CREATE_ACCOUNT_AWS_US_WEST_2"]
GROUPS = ["aws-us-west-2."]


def program():
    west = aws.Provider("west", region="us-west-2")
    MskReplication(
        "hub-to-west",
        MskReplicationArgs(
            MskEndpoint(SOURCE, ["hs1", "hs2", "hs3"], "hub-sg"),
            MskEndpoint(TARGET, ["ws1", "ws2", "ws3"], "west-sg"),
            TOPICS,
            GROUPS,
        ),
        pulumi.ResourceOptions(provider=west),
    )


def test_replicates_exactly_the_flows_topics_with_identical_names_and_synced_offsets(run):
    reg, _, _ = run(program)
    r = reg.one("aws:msk/replicator:Replicator").inputs
    info = r["replicationInfoList"]
    assert (info["sourceKafkaClusterArn"], info["targetKafkaClusterArn"]) == (SOURCE, TARGET)
    (topics,) = info["topicReplications"]
    assert topics["topicsToReplicates"] == sorted(TOPICS)
    assert topics["topicNameConfiguration"] == {"type": "IDENTICAL"}
    assert topics["copyTopicConfigurations"] is False
    (groups,) = info["consumerGroupReplications"]
    assert groups["synchroniseConsumerGroupOffsets"] is True
    # A regex: the target region's services' prefix, taken literally, and nobody else's groups.
    assert groups["consumerGroupsToReplicates"] == [r"aws\-us\-west\-2\..*"]
    assert [c["amazonMskCluster"]["mskClusterArn"] for c in r["kafkaClusters"]] == [SOURCE, TARGET]
    assert [c["vpcConfig"]["securityGroupsIds"] for c in r["kafkaClusters"]] == [["hub-sg"], ["west-sg"]]


def test_runs_in_the_target_region_with_its_own_role(run):
    reg, _, _ = run(program)
    replicator = reg.one("aws:msk/replicator:Replicator")
    role = reg.one("aws:iam/role:Role")
    assert reg.provider_region(replicator) == "us-west-2"
    assert (
        replicator.inputs["serviceExecutionRoleArn"]
        == f"arn:aws:mock:us-west-2:123456789012:aws:iam/role:Role/{role.name}"
    )
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "kafka.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    policy = reg.one("aws:iam/rolePolicy:RolePolicy")
    assert json.loads(policy.inputs["policy"]) == execution_policy(SOURCE, TARGET, sorted(TOPICS), GROUPS)
    assert policy.urn in replicator.dependencies


def test_policy_reads_only_the_source_topics_and_writes_only_the_target_topics():
    statements = {s["Sid"]: s for s in execution_policy(SOURCE, TARGET, TOPICS)["Statement"]}
    read, write = statements["ReadSourceTopics"], statements["WriteTargetTopics"]
    assert read["Resource"] == [f"arn:aws:kafka:us-east-1:123456789012:topic/hub/u1/{t}" for t in TOPICS]
    assert write["Resource"] == [f"arn:aws:kafka:us-west-2:123456789012:topic/west/u2/{t}" for t in TOPICS]
    assert not any("Write" in a or "Create" in a or "Alter" in a for a in read["Action"])
    assert statements["Clusters"]["Resource"] == [SOURCE, TARGET]
    for s in statements.values():
        assert all("*" not in a for a in s["Action"])
        assert all(
            res.startswith(("arn:aws:kafka:us-east-1:123456789012:", "arn:aws:kafka:us-west-2:123456789012:"))
            for res in s["Resource"]
        )


def test_role_names_fit_iam_and_stay_deterministic():
    long = "mck-production-east-aws-ap-southeast-1-to-aws-ap-northeast-1-replicator"
    assert len(role_name(long)) == 64 and role_name(long) == role_name(long)
    assert role_name("short-replicator") == "short-replicator"
    assert role_name(long) != role_name(long.replace("northeast", "southeast"))


def test_every_child_is_under_the_component(run):
    reg, _, _ = run(program)
    component = reg.one(MskReplication.TYPE)
    children = [r for r in reg.all if r.custom and r.type != "pulumi:providers:aws"]
    assert len(children) == 3
    assert all(r.parent == component.urn and r.name.startswith("hub-to-west") for r in children)


def test_policy_names_only_the_synced_groups_never_every_group():
    statements = {s["Sid"]: s for s in execution_policy(SOURCE, TARGET, TOPICS, GROUPS)["Statement"]}
    assert statements["ConsumerGroups"]["Resource"] == [
        "arn:aws:kafka:us-east-1:123456789012:group/hub/u1/aws-us-west-2.*",
        "arn:aws:kafka:us-west-2:123456789012:group/west/u2/aws-us-west-2.*",
    ]


def test_group_offset_sync_follows_the_flow(run):
    def unsynced():
        MskReplication(
            "hub-to-west",
            MskReplicationArgs(
                MskEndpoint(SOURCE, ["hs1"], "hub-sg"),
                MskEndpoint(TARGET, ["ws1"], "west-sg"),
                TOPICS,
                GROUPS,
                sync_group_offsets=False,
            ),
            pulumi.ResourceOptions(provider=aws.Provider("west", region="us-west-2")),
        )

    reg, _, _ = run(unsynced)
    (groups,) = reg.one("aws:msk/replicator:Replicator").inputs["replicationInfoList"]["consumerGroupReplications"]
    assert groups["synchroniseConsumerGroupOffsets"] is False
