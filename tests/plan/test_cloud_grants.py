"""The plan's grants as MSK IAM policies and Managed Kafka ACLs: exactly the grants, never a wildcard."""

import pytest

from infra import access, cloud_grants
from infra.kinds import Auth
from tests.support.stacks import GCP_HUB, make_plan

HUB_ARN = "arn:aws:kafka:us-east-1:123456789012:cluster/mck-aws-us-east-1/abcd-1234"
ARCHITECTURES = ("header-routing", "topic-per-region", "regional-clusters")


def resources(policy, action):
    return {r for s in policy["Statement"] if action in s["Action"] for r in s["Resource"]}


def test_topic_and_group_arns_take_the_clusters_name_and_uuid():
    """ "Authorization policy resources" (Amazon MSK Developer Guide): topic and group ARNs are
    arn:aws:kafka:<region>:<account>:topic|group/<cluster name>/<cluster UUID>/<name>."""
    assert cloud_grants.msk_arn(HUB_ARN, "topic", "ORDERS") == (
        "arn:aws:kafka:us-east-1:123456789012:topic/mck-aws-us-east-1/abcd-1234/ORDERS"
    )
    assert cloud_grants.msk_arn(HUB_ARN, "group", "aws-us-west-2.*") == (
        "arn:aws:kafka:us-east-1:123456789012:group/mck-aws-us-east-1/abcd-1234/aws-us-west-2.*"
    )
    with pytest.raises(ValueError, match="not an MSK cluster ARN"):
        cloud_grants.msk_arn("arn:aws:kafka:us-east-1:1:topic/x/y/z", "topic", "t")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_an_aws_region_may_consume_exactly_its_own_topics_and_produce_where_its_contract_says(architecture):
    plan = make_plan(architecture)
    for region in plan.config.regions:
        grants = cloud_grants.iam_grants(plan, access.services_key(region))
        policy = cloud_grants.msk_policy([(HUB_ARN, g) for g in grants.values()])
        contract = plan.routing[region]
        produce = {r.topic for dests in contract.produce.values() for r in dests.values()}
        assert resources(policy, "kafka-cluster:WriteData") == {
            cloud_grants.msk_arn(HUB_ARN, "topic", t) for t in produce
        }
        assert resources(policy, "kafka-cluster:ReadData") == {
            cloud_grants.msk_arn(HUB_ARN, "topic", t) for t in contract.consume.values()
        }
        prefix = access.group_prefix(plan.config.regions[region])
        assert resources(policy, "kafka-cluster:AlterGroup") == {cloud_grants.msk_arn(HUB_ARN, "group", f"{prefix}*")}
        assert resources(policy, "kafka-cluster:Connect") == {HUB_ARN}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_no_policy_names_a_wildcard_topic_or_group(architecture):
    plan = make_plan(architecture)
    for key in plan.principals:
        policy = cloud_grants.msk_policy([(HUB_ARN, g) for g in cloud_grants.iam_grants(plan, key).values()])
        for statement in policy["Statement"]:
            for arn in statement["Resource"]:
                assert not arn.endswith("/*"), (key, arn)
                assert ":topic/" not in arn or "*" not in arn, (key, arn)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_action_comes_with_the_actions_msk_requires_of_it(architecture):
    """ "Semantics of IAM authorization policy actions and resources" (Amazon MSK Developer Guide):
    every action requires kafka-cluster:Connect; ReadData requires DescribeTopic and AlterGroup;
    WriteData requires DescribeTopic; AlterGroup requires DescribeGroup. A policy missing a required
    action is accepted by IAM and fails only when the client connects, so mocks cannot catch it.
    (Mirror flows' roles are the replicator's and MSK Connect's own policies, tested with them.)"""
    plan = make_plan(architecture)
    for key in (access.services_key(r) for r in plan.config.regions):
        policy = cloud_grants.msk_policy([(HUB_ARN, g) for g in cloud_grants.iam_grants(plan, key).values()])
        if not policy["Statement"]:
            continue
        for action in ("kafka-cluster:ReadData", "kafka-cluster:WriteData"):
            assert resources(policy, action) <= resources(policy, "kafka-cluster:DescribeTopic")
        if resources(policy, "kafka-cluster:ReadData"):
            assert resources(policy, "kafka-cluster:AlterGroup")
        assert resources(policy, "kafka-cluster:AlterGroup") <= resources(policy, "kafka-cluster:DescribeGroup")
        assert resources(policy, "kafka-cluster:Connect") == {HUB_ARN}
        if resources(policy, "kafka-cluster:WriteData"):
            assert resources(policy, "kafka-cluster:WriteDataIdempotently") == {HUB_ARN}


def test_only_iam_grants_make_iam_policies():
    plan = make_plan("regional-clusters", GCP_HUB, hub="gcp/europe-west1")
    for key in plan.principals:
        assert all(g.auth == Auth.AWS_IAM for g in cloud_grants.iam_grants(plan, key).values())
    assert set(cloud_grants.iam_grants(plan, "services:aws/us-west-2")) == {"aws/us-west-2"}


def readers(acls, topic):
    return {e.principal for e in acls.get(f"topic/{topic}", ()) if e.operation == cloud_grants.READ}


@pytest.mark.parametrize("architecture", ("topic-per-region", "regional-clusters"))
def test_on_a_gcp_hub_each_regions_topics_are_read_only_by_that_region_and_its_mirror_flow(architecture):
    plan = make_plan(architecture, GCP_HUB, hub="gcp/europe-west1")
    acls = cloud_grants.kafka_acls(plan, "gcp/europe-west1")
    for topic in plan.topics["gcp/europe-west1"].values():
        assert topic.destination is not None
        for reader in readers(acls, topic.name):
            assert plan.principals[reader].home == topic.destination, (topic.name, reader)


def test_header_routing_exposes_every_event_topic_to_every_region():
    plan = make_plan("header-routing", GCP_HUB, hub="gcp/europe-west1")
    acls = cloud_grants.kafka_acls(plan, "gcp/europe-west1")
    for topic in plan.topics["gcp/europe-west1"].values():
        assert readers(acls, topic.name) == {access.services_key(r) for r in plan.config.regions}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_acl_entries_are_exactly_the_grants_plus_mirrormakers_own(architecture):
    plan = make_plan(architecture, GCP_HUB, hub="gcp/europe-west1")
    for cluster in plan.clusters:
        acls = cloud_grants.kafka_acls(plan, cluster)
        for key, grant in cloud_grants.principals_on(plan, cluster).items():
            ops = {(acl_id, e.operation) for acl_id, entries in acls.items() for e in entries if e.principal == key}
            expected = {(f"topic/{t}", "WRITE") for t in grant.produce}
            expected |= {(f"topic/{t}", "READ") for t in grant.consume}
            expected |= {(f"consumerGroupPrefixed/{g}", "READ") for g in grant.groups}
            if key.startswith("mirror:"):
                extras = cloud_grants.mirror_extras(plan, key, cluster)
                expected |= {(acl_id, e.operation) for acl_id, entries in extras.items() for e in entries}
            assert ops == expected, key
        assert not any(acl_id in ("allTopics", "allConsumerGroups") for acl_id in acls)


def test_a_mirror_flow_gets_its_internal_topics_and_the_target_regions_groups_only():
    plan = make_plan("regional-clusters", GCP_HUB, hub="gcp/europe-west1")
    key = "mirror:gcp/europe-west1->gcp/asia-southeast1"
    source = cloud_grants.mirror_extras(plan, key, "gcp/europe-west1")
    assert set(source) == {"consumerGroupPrefixed/gcp-asia-southeast1."}
    target = cloud_grants.mirror_extras(plan, key, "gcp/asia-southeast1")
    assert {
        "consumerGroupPrefixed/gcp-asia-southeast1.",
        "topicPrefixed/mm2-offset-syncs.",
        "topic/gcp-europe-west1.checkpoints.internal",
    } <= set(target)
    assert {e.operation for e in target["topicPrefixed/mm2-offset-syncs."]} == {"CREATE", "READ", "WRITE"}
