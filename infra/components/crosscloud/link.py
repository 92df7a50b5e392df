"""One planned `ha-vpn` link: the VPN, and DNS forwarding where AWS needs GCP names."""

from __future__ import annotations

import pulumi

from infra import geo, naming, vpn
from infra.components import access
from infra.components.base import Context
from infra.components.crosscloud.dns import GcpNameForwardingArgs
from infra.components.crosscloud.ha_vpn import AwsVpnGateway, AwsVpnGatewayArgs, HaVpnLink, HaVpnLinkArgs, link_name
from infra.plan import Link, Plan


def aws_needs_gcp_names(plan: Plan, link: Link) -> bool:
    """Whether clients in the link's AWS region connect to a cluster in its GCP region."""
    ends = vpn.ends(plan, link)
    clients = access.foreign_clients(plan)
    return any(
        cluster.region.key == ends.gcp.key and ends.aws.key in clients[key] for key, cluster in plan.clusters.items()
    )


def realize_link(ctx: Context, link: Link, hub, spoke) -> HaVpnLink:
    plan, cfg = ctx.plan, ctx.plan.config
    ends = vpn.ends(plan, link)
    aws_net, gcp_net = (hub, spoke) if hub.region.cloud == geo.AWS else (spoke, hub)
    aws_provider = ctx.provider(ends.aws)
    gateway = ctx.once(
        f"aws-vpn-gateway:{ends.aws.key}",
        lambda: AwsVpnGateway(
            naming.resource_name(ctx.prefix, ends.aws, "vpn"),
            AwsVpnGatewayArgs(vpc_id=aws_net.vpc.id, route_table_ids=[aws_net.route_table.id], asn=cfg.vpn.aws_asn),
            pulumi.ResourceOptions(parent=ctx.parent, provider=aws_provider),
        ),
    )
    name = link_name(ctx.prefix, plan.config.regions[link.hub], plan.config.regions[link.spoke])
    forwarding = None
    if aws_needs_gcp_names(plan, link):
        forwarding = GcpNameForwardingArgs(
            project=cfg.gcp_project,
            gcp_region=ends.gcp,
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
            project=cfg.gcp_project,
            gcp_network=gcp_net.vpc.id,
            aws_gateway=gateway,
            gcp_asn=cfg.vpn.gcp_asn,
            tunnels=vpn.tunnels(link),
            aws_provider=aws_provider,
            gcp_provider=gcp_net.provider,
            name_forwarding=forwarding,
        ),
        pulumi.ResourceOptions(parent=ctx.parent),
    )
