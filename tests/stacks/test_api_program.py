"""The whole program (__main__.py) with the api key: the prod stack file under mocks."""

from __future__ import annotations

import json
import runpy

import pytest

from infra import stackfile
from infra.architectures import build_plan
from infra.components.api.component import RegionalApi
from tests.support import mocks
from tests.support.stacks import MAIN, stack_file_config


@pytest.fixture(scope="module")
def prod():
    def program():
        main = runpy.run_path(str(MAIN))
        return {"api": main["architecture"].api.outputs, "regions": main["architecture"].regions}

    monitor, _, outputs = mocks.run(program, stack_file_config("prod"), "prod")
    regs = monitor.registrations
    return build_plan(stackfile.load("prod")).api, regs, {r.urn: r for r in regs}, outputs


def of_type(regs, type_):
    return [r for r in regs if r.type == type_]


def test_prod_serves_the_api_in_every_region_in_its_cloud(prod):
    plan, regs, _by_urn, _ = prod
    points = {r.name: r.type for r in regs if r.type.startswith("multicloud-kafka:api:") and r.type != RegionalApi.TYPE}
    assert points == {
        "mck-prod-aws-us-east-1-api": "multicloud-kafka:api:AwsEntryPoint",
        "mck-prod-aws-us-west-2-api": "multicloud-kafka:api:AwsEntryPoint",
        "mck-prod-gcp-europe-west1-api": "multicloud-kafka:api:GcpEntryPoint",
        "mck-prod-gcp-asia-southeast1-api": "multicloud-kafka:api:GcpEntryPoint",
    }
    assert len(plan.endpoints) == 4


def test_entry_points_live_in_the_networks_the_realization_built(prod):
    _, regs, _by_urn, _ = prod
    vpcs = {r.inputs["cidrBlock"]: r.name for r in of_type(regs, "aws:ec2/vpc:Vpc")}
    for region, cidr in (("us-east-1", "10.10.0.0/16"), ("us-west-2", "10.20.0.0/16")):
        link = next(r for r in of_type(regs, "aws:apigatewayv2/vpcLink:VpcLink") if region in r.name)
        subnets = [
            r.name for r in of_type(regs, "aws:ec2/subnet:Subnet") if r.name.startswith(f"mck-prod-aws-{region}-az")
        ]
        assert sorted(link.inputs["subnetIds"]) == sorted(f"{s}-id" for s in subnets)
        sg = next(
            r
            for r in of_type(regs, "aws:ec2/securityGroup:SecurityGroup")
            if r.name == f"mck-prod-aws-{region}-api-vpc-link"
        )
        assert sg.inputs["vpcId"] == f"{vpcs[cidr]}-id"
    [vpc] = of_type(regs, "gcp:compute/network:Network")
    for r in of_type(regs, "gcp:compute/forwardingRule:ForwardingRule") + [
        s
        for s in of_type(regs, "gcp:compute/subnetwork:Subnetwork")
        if s.inputs.get("purpose") == "REGIONAL_MANAGED_PROXY"
    ]:
        assert r.inputs["network"] == f"{vpc.name}-id", r.name


def test_every_api_resource_is_under_the_api_component_with_an_explicit_provider(prod):
    _, regs, by_urn, _ = prod
    [root] = of_type(regs, RegionalApi.TYPE)
    assert by_urn[root.parent].type == "multicloud-kafka:architecture:RegionalClusters"
    providers = {r.urn for r in regs if r.type.startswith("pulumi:providers:")}
    under = []
    for r in regs:
        node = r
        while node.parent in by_urn and node is not root:
            node = by_urn[node.parent]
        if node is root and r is not root:
            under.append(r)
            assert r.name.startswith("mck-prod-")
            if r.custom and not r.type.startswith("pulumi:providers:"):
                assert r.provider in providers, f"{r.type} {r.name} would use a default provider"
    kinds = {r.type for r in under}
    assert {
        "aws:apigatewayv2/api:Api",
        "gcp:compute/forwardingRule:ForwardingRule",
        "aws:route53/healthCheck:HealthCheck",
    } <= kinds


def test_four_health_checked_latency_records_make_the_global_name(prod):
    _, regs, _, _ = prod
    latency = [r for r in of_type(regs, "aws:route53/record:Record") if r.inputs.get("latencyRoutingPolicies")]
    assert sorted(r.inputs["latencyRoutingPolicies"][0]["region"] for r in latency) == [
        "ap-southeast-1",
        "eu-west-3",
        "us-east-1",
        "us-west-2",
    ]
    assert {r.inputs["name"] for r in latency} == {"api.example.com"}
    assert all(r.inputs["healthCheckId"] for r in latency)
    assert len(of_type(regs, "aws:route53/healthCheck:HealthCheck")) == 4


def test_outputs_carry_the_global_name_and_each_regions_endpoint(prod):
    plan, _, _, outputs = prod
    assert outputs["api"]["hostname"] == "api.example.com"
    assert set(outputs["api"]["regions"]) == set(plan.endpoints)
    assert (
        outputs["api"]["regions"]["aws/us-west-2"]["vpcLinkSecurityGroupId"] == "mck-prod-aws-us-west-2-api-vpc-link-id"
    )
    europe = outputs["api"]["regions"]["gcp/europe-west1"]
    assert europe["proxyCidr"] == "10.130.0.0/23" and europe["address"].startswith("203.0.113.")
    assert europe["latencyRegion"] == "eu-west-3"
    for key, region in outputs["regions"].items():
        assert region["api"]["url"] == f"https://api-{key.replace('/', '-')}.example.com/"
        assert region["api"]["globalUrl"] == "https://api.example.com/"
        assert "routing" in region and "bootstrap" in region


def test_an_api_key_that_disagrees_with_the_regions_stops_the_program_before_any_resource():
    from infra.validation import ConfigError

    config = stack_file_config("prod")
    value = json.loads(config["multicloud-kafka:api"])
    del value["backends"]["gcp/asia-southeast1"]
    config["multicloud-kafka:api"] = json.dumps(value)
    refused = []

    def program():
        try:
            runpy.run_path(str(MAIN))
        except ConfigError as e:
            refused.append(e)

    monitor, _, _ = mocks.run(program, config, "prod")
    [error] = refused
    assert [p.key for p in error.problems] == ["multicloud-kafka:api.backends"]
    assert "gcp/asia-southeast1" in str(error)
    assert monitor.registrations == []
