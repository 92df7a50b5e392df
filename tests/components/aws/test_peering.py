"""Hub <-> spoke VPC peering under mocks: who requests, who accepts, routes both ways."""

import ipaddress

import pulumi
import pulumi_aws as aws

from infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from infra.components.aws.peering import VpcPeering, VpcPeeringArgs
from infra.geo import Region

HUB = Region("aws", "us-east-1", ipaddress.ip_network("10.10.0.0/16"))
SPOKE = Region("aws", "eu-west-1", ipaddress.ip_network("10.30.0.0/16"))


def program():
    cidrs = [str(HUB.cidr), str(SPOKE.cidr)]
    east, west = aws.Provider("east", region=HUB.name), aws.Provider("west", region=SPOKE.name)
    hub = AwsNetwork("hub", AwsNetworkArgs(HUB, cidrs), pulumi.ResourceOptions(provider=east))
    spoke = AwsNetwork("spoke", AwsNetworkArgs(SPOKE, cidrs), pulumi.ResourceOptions(provider=west))
    VpcPeering("p", VpcPeeringArgs(hub, east, spoke, west))


def test_hub_requests_in_its_region_and_spoke_accepts_in_its_own(run):
    reg, _, _ = run(program)
    request = reg.one("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert reg.provider_region(request) == "us-east-1"
    assert request.inputs["vpcId"] == "hub-vpc-id"
    assert request.inputs["peerVpcId"] == "spoke-vpc-id"
    assert request.inputs["peerRegion"] == "eu-west-1"
    assert request.inputs["autoAccept"] is False
    accept = reg.one("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
    assert reg.provider_region(accept) == "eu-west-1"
    assert accept.inputs["vpcPeeringConnectionId"] == "p-request-id"
    assert accept.inputs["autoAccept"] is True


def test_each_side_routes_the_other_sides_cidr_through_the_peering(run):
    reg, _, _ = run(program)
    routes = {reg.provider_region(r): r for r in reg.of_type("aws:ec2/route:Route")}
    assert set(routes) == {"us-east-1", "eu-west-1"}
    hub_route, spoke_route = routes["us-east-1"], routes["eu-west-1"]
    assert (hub_route.inputs["routeTableId"], hub_route.inputs["destinationCidrBlock"]) == (
        "hub-private-id",
        "10.30.0.0/16",
    )
    assert (spoke_route.inputs["routeTableId"], spoke_route.inputs["destinationCidrBlock"]) == (
        "spoke-private-id",
        "10.10.0.0/16",
    )
    accept = reg.one("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
    for r in (hub_route, spoke_route):
        assert r.inputs["vpcPeeringConnectionId"] == "p-request-id"
        assert accept.urn in r.dependencies


def test_peering_resources_are_children_of_the_component(run):
    reg, _, _ = run(program)
    component = reg.one(VpcPeering.TYPE)
    mine = [r for r in reg.all if r.parent == component.urn]
    assert sorted(r.type.split(":")[-1] for r in mine) == [
        "Route",
        "Route",
        "VpcPeeringConnection",
        "VpcPeeringConnectionAccepter",
    ]
    assert all(r.name.startswith("p-") for r in mine)
