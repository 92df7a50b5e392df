"""AWS principals on MSK under mocks: each region's services policy, the mirror roles, no wildcard."""

import json

import pytest

from infra import access, cloud_grants, naming
from infra.components.architecture import component_for
from tests.support.stacks import AWS_HUB, make_plan

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MSK = "aws:msk/cluster:Cluster"


def realize(plan):
    def program():
        a = component_for(plan)("mck", plan)
        return {"access": a.access}

    return program


def cluster_arn(reg, key, plan):
    name = plan.clusters[key].name
    return f"arn:aws:kafka:{plan.clusters[key].region.name}:123456789012:cluster/{name}/uuid-{name}"


@pytest.mark.parametrize("architecture", ["topic-per-region", "regional-clusters"])
def test_each_aws_regions_services_get_a_policy_of_exactly_their_grants(run, architecture):
    plan = make_plan(architecture, AWS_HUB)
    reg, _, value = run(realize(plan))
    policies = {p.name: p for p in reg.of_type(POLICY)}
    for region_key in ("aws/us-east-1", "aws/us-west-2"):
        region = plan.config.regions[region_key]
        name = naming.resource_name(plan.config.name_prefix, region, "kafka-services")
        document = json.loads(policies[name].inputs["policy"])
        grants = cloud_grants.iam_grants(plan, access.services_key(region_key))
        expected = cloud_grants.msk_policy([(cluster_arn(reg, k, plan), grants[k]) for k in sorted(grants)])
        assert document == expected
        assert reg.provider_region(policies[name]) == region.name
        assert value["access"][region_key]["policyArn"].endswith(f"aws:iam/policy:Policy/{name}")
    # GCP regions reach MSK with SCRAM: no IAM policy is theirs.
    assert set(policies) == {
        naming.resource_name(plan.config.name_prefix, plan.config.regions[k], "kafka-services")
        for k in ("aws/us-east-1", "aws/us-west-2")
    }


@pytest.mark.parametrize("architecture", ["header-routing", "topic-per-region", "regional-clusters"])
def test_no_kafka_policy_of_the_stack_names_every_topic_or_every_group(run, architecture):
    """Services' policies, MSK Replicator's and MSK Connect's roles alike: a `*` may only end a
    prefix (the group prefix, the services' own internal topics), never stand for every topic or group."""
    plan = make_plan(architecture, AWS_HUB)
    reg, _, _ = run(realize(plan))
    documents = [json.loads(r.inputs["policy"]) for r in [*reg.of_type(POLICY), *reg.of_type(ROLE_POLICY)]]
    kafka = [s for d in documents for s in d["Statement"] if any(a.startswith("kafka-cluster:") for a in s["Action"])]
    assert kafka
    for statement in kafka:
        for arn in statement["Resource"]:
            assert not arn.endswith("/*"), arn
