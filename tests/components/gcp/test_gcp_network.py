"""The stack's global GCP VPC under mocks: subnets, firewall sources, DNS, no NAT."""

import ipaddress

import pulumi
import pulumi_gcp as gcp
import pytest

from infra.components.gcp.network import GcpNetwork, GcpNetworkArgs
from infra.geo import Region
from tests.support.stacks import AWS_HUB, GCP_HUB, make_plan

EUROPE = Region("gcp", "europe-west1", ipaddress.ip_network("10.30.0.0/16"))
ASIA = Region("gcp", "asia-southeast1", ipaddress.ip_network("10.40.0.0/16"))
CLIENTS = ["10.10.0.0/16", "10.30.0.0/16", "10.40.0.0/16", "10.20.0.0/16"]


def build(inbound_dns=False):
    def program():
        glob = gcp.Provider("global", project="p")
        providers = {r.key: gcp.Provider(r.name, project="p", region=r.name) for r in (EUROPE, ASIA)}
        GcpNetwork(
            "mck-gcp",
            GcpNetworkArgs("p", {r.key: r for r in (EUROPE, ASIA)}, providers, CLIENTS, inbound_dns),
            pulumi.ResourceOptions(provider=glob),
        )

    return program


def test_one_custom_mode_vpc_with_regional_dynamic_routing(run):
    reg, _, _ = run(build())
    vpc = reg.one("gcp:compute/network:Network")
    assert vpc.inputs["autoCreateSubnetworks"] is False
    # Each region's Cloud Router applies what it learns to its own region only.
    assert vpc.inputs["routingMode"] == "REGIONAL"


def test_a_subnet_per_region_of_exactly_its_cidr_with_its_regional_provider(run):
    reg, _, _ = run(build())
    subnets = reg.of_type("gcp:compute/subnetwork:Subnetwork")
    got = {(s.inputs["region"], s.inputs["ipCidrRange"], reg.provider_region(s)) for s in subnets}
    assert got == {
        ("europe-west1", "10.30.0.0/16", "europe-west1"),
        ("asia-southeast1", "10.40.0.0/16", "asia-southeast1"),
    }
    assert all(s.inputs["privateIpGoogleAccess"] is True for s in subnets)


def test_firewall_admits_only_the_kafka_port_only_from_planned_cidrs(run):
    reg, _, _ = run(build())
    (rule,) = reg.of_type("gcp:compute/firewall:Firewall")
    assert rule.inputs["direction"] == "INGRESS"
    assert rule.inputs["allows"] == [{"protocol": "tcp", "ports": ["9092"]}]
    assert rule.inputs["sourceRanges"] == sorted(CLIENTS)
    assert "denies" not in rule.inputs


def test_nothing_reaches_the_internet_no_nat(run):
    reg, _, _ = run(build())
    assert not reg.of_type("gcp:compute/routerNat:RouterNat")
    assert not reg.of_type("gcp:compute/router:Router")


@pytest.mark.parametrize("inbound", [False, True])
def test_inbound_dns_forwarding_only_when_asked(run, inbound):
    reg, _, _ = run(build(inbound_dns=inbound))
    policies = reg.of_type("gcp:dns/policy:Policy")
    assert len(policies) == int(inbound)
    if inbound:
        assert policies[0].inputs["enableInboundForwarding"] is True


def test_every_child_is_under_the_component(run):
    reg, _, _ = run(build())
    (component,) = reg.of_type(GcpNetwork.TYPE)
    for r in reg.all:
        if r.type.startswith("gcp:") and r.custom:
            assert reg.ancestors(r)[0] is component, r.name


def test_aws_clients_of_a_gcp_cluster_turn_inbound_dns_on():
    # Hub on AWS: GCP clusters serve GCP clients only.
    assert not make_plan("regional-clusters", AWS_HUB).gcp_inbound_dns
    # Hub on GCP: AWS regions produce to it and MirrorMaker 2 reads from it.
    plan = make_plan("header-routing", GCP_HUB, hub="gcp/europe-west1")
    assert plan.gcp_inbound_dns
    forwarding = plan.links["gcp/europe-west1<->aws/us-east-1"].name_forwarding
    assert forwarding is not None and (forwarding.aws_region, forwarding.gcp_region) == (
        "aws/us-east-1",
        "gcp/europe-west1",
    )
    assert forwarding.domain == f"europe-west1.managedkafka.{plan.config.gcp_project}.cloud.goog"
