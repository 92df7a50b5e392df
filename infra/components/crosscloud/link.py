"""One planned `ha-vpn` link: the VPN, and DNS forwarding where the plan asks for it."""

from __future__ import annotations

import pulumi

from infra import geo, naming
from infra.components.aws.network import AwsNetwork
from infra.components.base import Context, Network, expect
from infra.components.crosscloud.dns import GcpNameForwardingArgs
from infra.components.crosscloud.ha_vpn import AwsVpnGateway, AwsVpnGatewayArgs, HaVpnLink, HaVpnLinkArgs, link_name
from infra.components.gcp.network import GcpRegionNetwork
from infra.plan import Link


def realize_link(ctx: Context, link: Link, hub: Network, spoke: Network) -> HaVpnLink:
    plan, cfg = ctx.plan, ctx.plan.config
    ends = plan.ends(link)
    on_aws, on_gcp = (hub, spoke) if hub.region.cloud == geo.AWS else (spoke, hub)
    aws_net = expect(on_aws, AwsNetwork, f"link {link.key}")
    gcp_net = expect(on_gcp, GcpRegionNetwork, f"link {link.key}")
    aws_provider = ctx.provider(ends.aws)
    gateway = ctx.once(
        f"aws-vpn-gateway:{ends.aws.key}",
        lambda: AwsVpnGateway(
            naming.resource_name(ctx.prefix, ends.aws, "vpn"),
            AwsVpnGatewayArgs(vpc_id=aws_net.vpc.id, route_table_ids=[aws_net.route_table.id], asn=cfg.vpn.aws_asn),
            pulumi.ResourceOptions(parent=ctx.parent, provider=aws_provider),
        ),
    )
    name = link_name(ctx.prefix, cfg.regions[link.hub], cfg.regions[link.spoke])
    forwarding = None
    if link.name_forwarding is not None:
        if gcp_net.network.dns_policy is None:
            raise ValueError(f"link {link.key} forwards names, but the GCP network has no inbound DNS policy")
        forwarding = GcpNameForwardingArgs(
            project=ctx.gcp_project,
            gcp_region=ends.gcp,
            domain=link.name_forwarding.domain,
            gcp_subnet_self_link=gcp_net.subnet.self_link,
            dns_policy=gcp_net.network.dns_policy,
            vpc_id=aws_net.vpc.id,
            subnet_ids=aws_net.subnet_ids,
            aws_provider=aws_provider,
            gcp_provider=gcp_net.provider,
        )
    return HaVpnLink(
        name,
        HaVpnLinkArgs(
            aws_region=ends.aws,
            gcp_region=ends.gcp,
            project=ctx.gcp_project,
            gcp_network=gcp_net.vpc.id,
            aws_gateway=gateway,
            gcp_asn=cfg.vpn.gcp_asn,
            tunnels=link.tunnels,
            aws_provider=aws_provider,
            gcp_provider=gcp_net.provider,
            name_forwarding=forwarding,
        ),
        pulumi.ResourceOptions(parent=ctx.parent),
    )
