"""The AWS regional network under mocks: private, three AZs, Kafka-only SG."""

import ipaddress

import pulumi
import pulumi_aws as aws

from infra import network
from infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from infra.geo import Region

WEST = Region("aws", "us-west-2", ipaddress.ip_network("10.20.0.0/16"))
CLIENTS = ["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"]


def build():
    provider = aws.Provider("west", region="us-west-2")
    net = AwsNetwork("n-aws-us-west-2", AwsNetworkArgs(WEST, CLIENTS), pulumi.ResourceOptions(provider=provider))
    return net.subnet_ids


def test_three_private_subnets_carved_from_the_region_cidr_one_per_az(run):
    reg, mocks, _ = run(build)
    subnets = sorted(reg.of_type("aws:ec2/subnet:Subnet"), key=lambda r: r.name)
    assert [s.inputs["cidrBlock"] for s in subnets] == [str(c) for c in network.az_subnets(WEST.cidr)]
    assert [s.inputs["availabilityZoneId"] for s in subnets] == ["usw2-az1", "usw2-az2", "usw2-az3"]
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    # The zone IDs came from the invoke made with the region's own provider.
    assert mocks.calls == [("aws:index/getAvailabilityZones:getAvailabilityZones", "us-west-2")]


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
    assert len(children) == 1 + 3 + 1 + 3 + 1
    for r in children:
        assert r.parent == component.urn
        assert r.name.startswith(component.name)
        assert reg.provider_region(r) == "us-west-2"
