"""The AWS regional network under mocks: private, three AZs, Kafka-only SG, closed default SG, flow logs."""

import ipaddress
import json

import pulumi
import pulumi_aws as aws

from infra import aws_rules, network
from infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from infra.geo import Region
from tests.support.outputs import ACCOUNT, mock_arn

WEST = Region("aws", "us-west-2", ipaddress.ip_network("10.20.0.0/16"))
CLIENTS = ["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"]


def build():
    provider = aws.Provider("west", region="us-west-2")
    net = AwsNetwork("n-aws-us-west-2", AwsNetworkArgs(WEST, CLIENTS), pulumi.ResourceOptions(provider=provider))
    net.kafka_security_group()
    return net.subnet_ids


def test_three_private_subnets_carved_from_the_region_cidr_one_per_az(run):
    reg, mocks, _ = run(build)
    subnets = sorted(reg.of_type("aws:ec2/subnet:Subnet"), key=lambda r: r.name)
    assert [s.inputs["cidrBlock"] for s in subnets] == [str(c) for c in network.az_subnets(WEST.cidr)]
    assert [s.inputs["availabilityZoneId"] for s in subnets] == ["usw2-az1", "usw2-az2", "usw2-az3"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    # The zone IDs came from the invoke made with the region's own provider.
    assert ("aws:index/getAvailabilityZones:getAvailabilityZones", "us-west-2") in mocks.calls
    assert {region for _, region in mocks.calls} == {"us-west-2"}


def test_no_route_to_the_internet_and_every_subnet_on_the_private_table(run):
    reg, _, _ = run(build)
    assert not reg.of_type("aws:ec2/internetGateway:InternetGateway")
    assert not reg.of_type("aws:ec2/natGateway:NatGateway")
    table = reg.one("aws:ec2/routeTable:RouteTable")
    assocs = reg.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert len(assocs) == 3
    assert {a.inputs["routeTableId"] for a in assocs} == {f"{table.name}-id"}


def test_security_group_admits_only_kafka_ports_from_the_plan_cidrs(run):
    reg, _, _ = run(build)
    sg = reg.one("aws:ec2/securityGroup:SecurityGroup")
    for direction in ("ingress", "egress"):
        rules = sg.inputs[direction]
        assert sorted(r["fromPort"] for r in rules) == list(network.KAFKA_PORTS["aws"])
        for rule in rules:
            assert rule["protocol"] == "tcp"
            assert rule["fromPort"] == rule["toPort"]
            assert sorted(rule["cidrBlocks"]) == sorted(CLIENTS)
    assert "0.0.0.0/0" not in str(sg.inputs)


def test_every_resource_is_in_the_region_and_under_the_component(run):
    reg, _, _ = run(build)
    component = reg.one(AwsNetwork.TYPE)
    children = [r for r in reg.all if r.custom and r.type != "pulumi:providers:aws"]
    # VPC, subnets, route table, associations, Kafka SG; default SG, log key,
    # flow log group, its role and role policy, the flow log.
    assert len(children) == 1 + 3 + 1 + 3 + 1 + 6
    for r in children:
        assert r.parent == component.urn
        assert r.name.startswith(component.name)
        assert reg.provider_region(r) == "us-west-2"


def test_the_default_security_group_is_managed_with_no_rules(run):
    reg, _, _ = run(build)
    vpc = reg.one("aws:ec2/vpc:Vpc")
    default = reg.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs["vpcId"] == f"{vpc.name}-id"
    assert not default.inputs.get("ingress") and not default.inputs.get("egress")


def test_every_flow_of_the_vpc_is_logged_to_a_log_group_under_the_regions_log_key(run):
    reg, _, _ = run(build)
    vpc = reg.one("aws:ec2/vpc:Vpc")
    flow = reg.one("aws:ec2/flowLog:FlowLog")
    group = reg.one("aws:cloudwatch/logGroup:LogGroup")
    key = reg.one("aws:kms/key:Key")
    assert flow.inputs["vpcId"] == f"{vpc.name}-id"
    assert (flow.inputs["trafficType"], flow.inputs["logDestinationType"]) == ("ALL", "cloud-watch-logs")
    assert flow.inputs["logDestination"] == mock_arn("aws:cloudwatch/logGroup:LogGroup", group.name, "us-west-2")
    assert group.inputs["kmsKeyId"] == mock_arn("aws:kms/key:Key", key.name, "us-west-2")
    assert group.inputs["retentionInDays"] == aws_rules.DEFAULT_LOG_RETENTION_DAYS
    role = reg.one("aws:iam/role:Role")
    assert flow.inputs["iamRoleArn"] == mock_arn("aws:iam/role:Role", role.name, "us-west-2")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    publish = json.loads(reg.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"][0]
    assert publish["Resource"][0] == flow.inputs["logDestination"]


def test_the_log_key_is_administered_by_the_account_and_used_by_cloudwatch_logs_only(run):
    reg, _, _ = run(build)
    key = reg.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    admin, use = json.loads(key.inputs["policy"])["Statement"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert not any(a.startswith(("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")) for a in admin["Action"])
    assert use["Principal"] == {"Service": "logs.us-west-2.amazonaws.com"}
    assert use["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:*"
    }


def test_log_retention_comes_from_the_args(run):
    def program():
        provider = aws.Provider("west", region="us-west-2")
        AwsNetwork("n-aws-us-west-2", AwsNetworkArgs(WEST, CLIENTS, 365), pulumi.ResourceOptions(provider=provider))

    reg, _, _ = run(program)
    assert reg.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 365
