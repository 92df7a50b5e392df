"""AWS <-> GCP over HA VPN: four IPsec tunnels, one BGP session each.

GCP side: an HA VPN gateway (two interfaces) and a Cloud Router in the GCP
region of the link, and an external VPN gateway describing AWS's four tunnel
endpoints. AWS side: two customer gateways (one per GCP interface) and two
site-to-site VPN connections (two tunnels each) on the VPC's virtual private
gateway, which propagates the learned GCP routes into the VPC's route table.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_random as random

from infra import naming, vpn
from infra.components.base import present
from infra.components.crosscloud.dns import GcpNameForwarding, GcpNameForwardingArgs
from infra.geo import Region

GCP_NAME_MAX = 63
IPSEC = "ipsec.1"
# AWS CreateCustomerGateway: BgpAsn takes 1 to 2,147,483,647; a larger ASN
# must go in BgpAsnExtended (2,147,483,648 to 4,294,967,295).
MAX_BGP_ASN = 2_147_483_647
# 40 letters: ~228 bits. AWS takes letters, digits, '.' and '_' but no
# leading zero; GCP takes any printable ASCII. Letters suit both.
PSK_LENGTH = 40


def gcp_name(*parts: str) -> str:
    """A GCP resource name (63 characters at most), readable head plus hash when long."""
    name = "-".join(parts)
    if len(name) <= GCP_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: GCP_NAME_MAX - 9].rstrip('-')}-{digest}"


@dataclass(frozen=True)
class AwsVpnGatewayArgs:
    vpc_id: pulumi.Input[str]
    # Route tables that learn the other cloud's routes from BGP.
    route_table_ids: Sequence[pulumi.Input[str]]
    asn: int


class AwsVpnGateway(pulumi.ComponentResource):
    """The virtual private gateway of one VPC, shared by all its VPN links.

    A VPC takes one virtual private gateway, so a hub with several GCP spokes
    terminates all their connections here; BGP route propagation puts every
    learned GCP range into the route tables, and nothing has to be listed.
    """

    TYPE = "multicloud-kafka:crosscloud:AwsVpnGateway"

    def __init__(self, name: str, args: AwsVpnGatewayArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        self.gateway = aws.ec2.VpnGateway(
            name,
            vpc_id=args.vpc_id,
            amazon_side_asn=str(args.asn),
            tags={"Name": name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.asn = args.asn
        for i, table in enumerate(args.route_table_ids):
            aws.ec2.VpnGatewayRoutePropagation(
                f"{name}-rt{i}",
                vpn_gateway_id=self.gateway.id,
                route_table_id=table,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"vpnGatewayId": self.gateway.id, "asn": args.asn})


@dataclass(frozen=True)
class HaVpnLinkArgs:
    aws_region: Region
    gcp_region: Region
    project: str
    # The GCP VPC (id) and the AWS end's virtual private gateway.
    gcp_network: pulumi.Input[str]
    aws_gateway: AwsVpnGateway
    gcp_asn: int
    tunnels: Sequence[vpn.Tunnel]
    aws_provider: pulumi.ProviderResource
    # The GCP region's provider.
    gcp_provider: pulumi.ProviderResource
    # When AWS clients must resolve the GCP region's Managed Kafka names:
    # how. Default: they need not, and no resolver is made.
    name_forwarding: GcpNameForwardingArgs | None = None


class HaVpnLink(pulumi.ComponentResource):
    """One AWS region <-> one GCP region: 4 tunnels, the 99.99% HA VPN design.

    The Cloud Router advertises only its own region's CIDR, so each GCP
    region is reached through its own link and one link's trouble never
    reroutes another region's traffic. Pre-shared keys are random, one per
    tunnel, and Pulumi secrets on both sides.
    """

    TYPE = "multicloud-kafka:crosscloud:HaVpnLink"

    def __init__(self, name: str, args: HaVpnLinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        on_aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        on_gcp = pulumi.ResourceOptions(parent=self, provider=args.gcp_provider)
        gcp_region = args.gcp_region.name
        self.gcp_gateway = gcp.compute.HaVpnGateway(
            f"{name}-gcp",
            name=gcp_name(name),
            project=args.project,
            region=gcp_region,
            network=args.gcp_network,
            opts=on_gcp,
        )
        self.router = gcp.compute.Router(
            f"{name}-router",
            name=gcp_name(name),
            project=args.project,
            region=gcp_region,
            network=args.gcp_network,
            bgp=gcp.compute.RouterBgpArgs(
                asn=args.gcp_asn,
                advertise_mode="CUSTOM",
                advertised_ip_ranges=[
                    gcp.compute.RouterBgpAdvertisedIpRangeArgs(
                        range=str(args.gcp_region.cidr), description=f"{args.gcp_region.key}"
                    )
                ],
            ),
            opts=on_gcp,
        )
        interfaces = self.gcp_gateway.vpn_interfaces
        self.customer_gateways = [
            aws.ec2.CustomerGateway(
                f"{name}-cgw{i}",
                type=IPSEC,
                **customer_gateway_asn(args.gcp_asn),
                ip_address=interfaces.apply(functools.partial(_interface_address, index=i)),
                tags={"Name": f"{name}-gcp-if{i}"},
                opts=on_aws,
            )
            for i in range(2)
        ]
        self.keys = {
            t.index: random.RandomPassword(
                f"{name}-t{t.index}-psk",
                length=PSK_LENGTH,
                special=False,
                numeric=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for t in args.tunnels
        }
        psk: dict[int, pulumi.Output[str]] = {i: pulumi.Output.secret(k.result) for i, k in self.keys.items()}
        self.connections = []
        for c in range(2):
            mine = {t.aws_tunnel: t for t in args.tunnels if t.aws_connection == c}
            self.connections.append(
                aws.ec2.VpnConnection(
                    f"{name}-conn{c}",
                    type=IPSEC,
                    customer_gateway_id=self.customer_gateways[c].id,
                    vpn_gateway_id=args.aws_gateway.gateway.id,
                    static_routes_only=False,
                    tunnel1_inside_cidr=str(mine[1].inside_cidr),
                    tunnel2_inside_cidr=str(mine[2].inside_cidr),
                    tunnel1_preshared_key=psk[mine[1].index],
                    tunnel2_preshared_key=psk[mine[2].index],
                    tunnel1_ike_versions=["ikev2"],
                    tunnel2_ike_versions=["ikev2"],
                    tags={"Name": f"{name}-conn{c}"},
                    opts=on_aws,
                )
            )
        outside = []
        for t in args.tunnels:
            conn = self.connections[t.aws_connection]
            outside.append(conn.tunnel1_address if t.aws_tunnel == 1 else conn.tunnel2_address)
        self.peer_gateway = gcp.compute.ExternalVpnGateway(
            f"{name}-aws",
            name=gcp_name(name, "aws"),
            project=args.project,
            redundancy_type="FOUR_IPS_REDUNDANCY",
            description=f"The four tunnel endpoints of {args.aws_region.key}",
            interfaces=[
                gcp.compute.ExternalVpnGatewayInterfaceArgs(id=t.index, ip_address=outside[t.index])
                for t in args.tunnels
            ],
            opts=on_gcp,
        )
        self.tunnels = []
        self.peers = []
        for t in args.tunnels:
            tunnel = gcp.compute.VPNTunnel(
                f"{name}-t{t.index}",
                name=gcp_name(name, f"t{t.index}"),
                project=args.project,
                region=gcp_region,
                vpn_gateway=self.gcp_gateway.id,
                vpn_gateway_interface=t.gcp_interface,
                peer_external_gateway=self.peer_gateway.id,
                peer_external_gateway_interface=t.index,
                shared_secret=psk[t.index],
                router=self.router.id,
                ike_version=2,
                opts=on_gcp,
            )
            conn = self.connections[t.aws_connection]
            # AWS assigns both ends' inside addresses within the planned /30:
            # read them from the connection rather than assume which is whose.
            aws_inside, gcp_inside = (
                (conn.tunnel1_vgw_inside_address, conn.tunnel1_cgw_inside_address)
                if t.aws_tunnel == 1
                else (conn.tunnel2_vgw_inside_address, conn.tunnel2_cgw_inside_address)
            )
            interface = gcp.compute.RouterInterface(
                f"{name}-t{t.index}",
                name=gcp_name(name, f"t{t.index}"),
                project=args.project,
                region=gcp_region,
                router=self.router.name,
                ip_range=pulumi.Output.concat(gcp_inside, f"/{t.inside_cidr.prefixlen}"),
                vpn_tunnel=tunnel.name,
                opts=on_gcp,
            )
            self.peers.append(
                gcp.compute.RouterPeer(
                    f"{name}-t{t.index}",
                    name=gcp_name(name, f"t{t.index}"),
                    project=args.project,
                    region=gcp_region,
                    router=self.router.name,
                    interface=interface.name,
                    ip_address=gcp_inside,
                    peer_ip_address=aws_inside,
                    peer_asn=args.aws_gateway.asn,
                    opts=on_gcp,
                )
            )
            self.tunnels.append(tunnel)
        self.name_forwarding = None
        if args.name_forwarding is not None:
            self.name_forwarding = GcpNameForwarding(
                f"{name}-names", args.name_forwarding, pulumi.ResourceOptions(parent=self)
            )
        self.register_outputs(
            {
                "gcpGatewayId": self.gcp_gateway.id,
                "routerId": self.router.id,
                "vpnConnectionIds": [c.id for c in self.connections],
                "tunnels": [t.id for t in self.tunnels],
            }
        )


def _interface_address(interfaces: list[gcp.compute.outputs.HaVpnGatewayVpnInterface], index: int) -> str:
    return present(interfaces[index].ip_address, f"address of HA VPN interface {index}")


def customer_gateway_asn(asn: int) -> dict[str, str]:
    """The customer gateway's ASN input: `bgp_asn`, or `bgp_asn_extended` above 2,147,483,647."""
    return {"bgp_asn": str(asn)} if asn <= MAX_BGP_ASN else {"bgp_asn_extended": str(asn)}


def link_name(prefix: str, hub: Region, spoke: Region) -> str:
    return f"{prefix}-{naming.region_slug(hub)}-to-{naming.region_slug(spoke)}"
