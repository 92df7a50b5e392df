"""The AWS <-> GCP HA VPN link under mocks: tunnels, BGP, inside addresses, secrets."""

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest

from infra.components.crosscloud.ha_vpn import (
    AwsVpnGateway,
    AwsVpnGatewayArgs,
    HaVpnLink,
    HaVpnLinkArgs,
    customer_gateway_asn,
    gcp_name,
)
from tests.support.mocks import secret
from tests.support.outputs import public_ip
from tests.support.stacks import AWS_HUB, make_plan

PLAN = make_plan("topic-per-region", AWS_HUB)
LINK = PLAN.links["aws/us-east-1<->gcp/europe-west1"]
ENDS = PLAN.ends(LINK)
TUNNELS = LINK.tunnels
AWS_ASN, GCP_ASN = 64600, 65100
NAME = "mck-aws-us-east-1-to-gcp-europe-west1"


def link_program(gcp_asn: int = GCP_ASN):
    """The program: one link between the two regions, its GCP side on ASN `gcp_asn`."""

    def program():
        on_aws = aws.Provider("east", region="us-east-1")
        on_gcp = gcp.Provider("europe", project="p", region="europe-west1")
        gateway = AwsVpnGateway(
            "mck-aws-us-east-1-vpn",
            AwsVpnGatewayArgs(vpc_id="vpc-1", route_table_ids=["rtb-1"], asn=AWS_ASN),
            pulumi.ResourceOptions(provider=on_aws),
        )
        HaVpnLink(
            NAME,
            HaVpnLinkArgs(
                ENDS.aws, ENDS.gcp, "p", "projects/p/global/networks/mck-gcp", gateway, gcp_asn, TUNNELS, on_aws, on_gcp
            ),
        )

    return program


@pytest.fixture
def reg(run):
    registry, _, _ = run(link_program())
    return registry


def test_four_tunnels_two_connections_two_customer_gateways(reg):
    assert len(reg.of_type("gcp:compute/vPNTunnel:VPNTunnel")) == 4
    assert len(reg.of_type("aws:ec2/vpnConnection:VpnConnection")) == 2
    assert len(reg.of_type("aws:ec2/customerGateway:CustomerGateway")) == 2
    (peer,) = reg.of_type("gcp:compute/externalVpnGateway:ExternalVpnGateway")
    assert peer.inputs["redundancyType"] == "FOUR_IPS_REDUNDANCY" and len(peer.inputs["interfaces"]) == 4


def test_bgp_asns_agree_on_both_sides(reg):
    router = reg.one("gcp:compute/router:Router")
    assert router.inputs["bgp"]["asn"] == GCP_ASN
    assert {c.inputs["bgpAsn"] for c in reg.of_type("aws:ec2/customerGateway:CustomerGateway")} == {str(GCP_ASN)}
    assert reg.one("aws:ec2/vpnGateway:VpnGateway").inputs["amazonSideAsn"] == str(AWS_ASN)
    assert {p.inputs["peerAsn"] for p in reg.of_type("gcp:compute/routerPeer:RouterPeer")} == {AWS_ASN}
    assert all(c.inputs["staticRoutesOnly"] is False for c in reg.of_type("aws:ec2/vpnConnection:VpnConnection"))


def test_each_tunnels_inside_addresses_agree_on_both_sides(reg):
    conns = sorted(reg.of_type("aws:ec2/vpnConnection:VpnConnection"), key=lambda r: r.name)
    interfaces = {r.name: r for r in reg.of_type("gcp:compute/routerInterface:RouterInterface")}
    peers = {r.inputs["interface"]: r for r in reg.of_type("gcp:compute/routerPeer:RouterPeer")}
    for t in TUNNELS:
        aws_cidr = conns[t.aws_connection].inputs[f"tunnel{t.aws_tunnel}InsideCidr"]
        assert aws_cidr == str(t.inside_cidr)
        interface = interfaces[f"{NAME}-t{t.index}"]
        # AWS assigns the first host of the /30 to its end and the second to
        # the customer gateway (the mocks do as AWS does); GCP reads both from
        # the connection's outputs.
        aws_inside, gcp_inside = (str(t.inside_cidr.network_address + n) for n in (1, 2))
        assert interface.inputs["ipRange"] == f"{gcp_inside}/30"
        peer = peers[interface.inputs["name"]]
        assert peer.inputs["peerIpAddress"] == aws_inside and peer.inputs["ipAddress"] == gcp_inside
        assert peer.inputs["router"] == interface.inputs["router"] == gcp_name(NAME)


def test_outside_addresses_are_wired_crosswise(reg):
    ha = reg.one("gcp:compute/haVpnGateway:HaVpnGateway")
    cgws = sorted(reg.of_type("aws:ec2/customerGateway:CustomerGateway"), key=lambda r: r.name)
    # Customer gateway i is GCP interface i.
    assert [c.inputs["ipAddress"] for c in cgws] == [public_ip(ha.name, i) for i in range(2)]
    conns = sorted(reg.of_type("aws:ec2/vpnConnection:VpnConnection"), key=lambda r: r.name)
    assert [c.inputs["customerGatewayId"] for c in conns] == [f"{c.name}-id" for c in cgws]
    peer = reg.one("gcp:compute/externalVpnGateway:ExternalVpnGateway")
    outside = {i["id"]: i["ipAddress"] for i in peer.inputs["interfaces"]}
    tunnels = {r.name: r for r in reg.of_type("gcp:compute/vPNTunnel:VPNTunnel")}
    for t in TUNNELS:
        assert outside[t.index] == public_ip(conns[t.aws_connection].name, t.aws_tunnel)
        tunnel = tunnels[f"{NAME}-t{t.index}"]
        assert tunnel.inputs["vpnGatewayInterface"] == t.gcp_interface
        assert tunnel.inputs["peerExternalGatewayInterface"] == t.index
        assert tunnel.inputs["ikeVersion"] == 2


def test_pre_shared_keys_are_secrets_one_per_tunnel_and_equal_on_both_sides(reg):
    conns = sorted(reg.of_type("aws:ec2/vpnConnection:VpnConnection"), key=lambda r: r.name)
    tunnels = {r.name: r for r in reg.of_type("gcp:compute/vPNTunnel:VPNTunnel")}
    keys = []
    for t in TUNNELS:
        on_aws = secret(conns[t.aws_connection].inputs[f"tunnel{t.aws_tunnel}PresharedKey"])
        on_gcp = secret(tunnels[f"{NAME}-t{t.index}"].inputs["sharedSecret"])
        assert on_aws == on_gcp
        keys.append(on_aws)
    assert len(set(keys)) == 4
    for p in reg.of_type("random:index/randomPassword:RandomPassword"):
        assert p.inputs["special"] is False and p.inputs["numeric"] is False and p.inputs["length"] >= 32


def test_gcp_advertises_only_its_regions_cidr_and_aws_propagates_what_it_learns(reg):
    bgp = reg.one("gcp:compute/router:Router").inputs["bgp"]
    assert bgp["advertiseMode"] == "CUSTOM"
    assert [r["range"] for r in bgp["advertisedIpRanges"]] == [str(ENDS.gcp.cidr)]
    propagation = reg.one("aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation")
    assert propagation.inputs["routeTableId"] == "rtb-1"
    assert reg.one("aws:ec2/vpnGateway:VpnGateway").inputs["vpcId"] == "vpc-1"


def test_each_side_in_its_own_region(reg):
    for r in reg.all:
        if r.custom and r.type.startswith("aws:"):
            assert reg.provider_region(r) == "us-east-1", r.name
        if (
            r.custom
            and r.type.startswith("gcp:compute/")
            and r.type != "gcp:compute/externalVpnGateway:ExternalVpnGateway"
        ):
            assert r.inputs["region"] == reg.provider_region(r) == "europe-west1", r.name


def test_gcp_names_fit_63_characters():
    long = gcp_name("a" * 40, "b" * 30, "t3")
    assert len(long) == 63 and long != gcp_name("a" * 40, "b" * 30, "t2")
    assert gcp_name("short", "t0") == "short-t0"


def test_an_asn_above_two_to_the_31_goes_to_the_extended_input(run):
    """AWS CreateCustomerGateway: "If the ASN is larger than 2,147,483,647, you must use
    BgpAsnExtended" (valid 2,147,483,648 to 4,294,967,295), and BgpAsn takes 1 to 2,147,483,647.
    Source: EC2 API Reference, CreateCustomerGateway (BgpAsn, BgpAsnExtended); pulumi-aws
    `aws.ec2.CustomerGateway` inputs `bgp_asn` and `bgp_asn_extended`.
    """
    assert customer_gateway_asn(2_147_483_647) == {"bgp_asn": "2147483647"}
    assert customer_gateway_asn(4_200_000_001) == {"bgp_asn_extended": "4200000001"}

    reg, _, _ = run(link_program(4_200_000_001))
    for cgw in reg.of_type("aws:ec2/customerGateway:CustomerGateway"):
        assert cgw.inputs["bgpAsnExtended"] == "4200000001" and "bgpAsn" not in cgw.inputs
