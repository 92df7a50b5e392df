"""The stack's one global GCP VPC: a subnet per planned GCP region, Kafka firewall."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra import geo, network
from infra.components.base import Context, Network, expect
from infra.components.gcp import provider as gcp_provider
from infra.geo import Region
from infra.plan import Link

# Flows aggregated over the shortest interval Cloud Logging offers.
FLOW_LOG_INTERVAL = "INTERVAL_5_SEC"


@dataclass(frozen=True)
class GcpNetworkArgs:
    project: str
    # Planned GCP regions by key; each gets a subnet of exactly its CIDR.
    regions: Mapping[str, Region]
    # The regional provider of each region in `regions`.
    providers: Mapping[str, pulumi.ProviderResource]
    # CIDRs admitted to the Kafka port: every region of the plan.
    kafka_client_cidrs: Sequence[str]
    # Turn on Cloud DNS inbound forwarding, so that resolvers in AWS can ask
    # for Managed Kafka's private broker names over the VPN. Default: off.
    inbound_dns: bool = False


class GcpNetwork(pulumi.ComponentResource):
    """One custom-mode VPC for the project, with a subnet per region.

    Subnet routes are global in a VPC, so two GCP regions reach each other
    with no link at all. Dynamic (BGP) routes are regional: each Cloud Router
    applies what it learns to its own region only, so every GCP region
    reaches AWS through its own VPN link and a link's failure stays in its
    region. The firewall admits only Managed Kafka's port, only from the
    plan's CIDRs; nothing needs the internet (Managed Kafka and Connect are
    Google-managed, clients reach Google APIs by Private Google Access), so
    there is no Cloud NAT.

    Every subnet logs its flows to Cloud Logging (VPC Flow Logs): every flow
    sampled, 5-second aggregation, all metadata, the settings of the CIS
    Google Cloud benchmark's flow-log recommendation (docs/security.md).
    """

    TYPE = "multicloud-kafka:gcp:Network"

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = gcp.compute.Network(
            name,
            name=name,
            project=args.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description="multicloud-kafka: one VPC for every GCP region of the stack",
            opts=child,
        )
        self.subnets: dict[str, gcp.compute.Subnetwork] = {}
        for key, region in args.regions.items():
            subnet_name = f"{name}-{region.name}"
            self.subnets[key] = gcp.compute.Subnetwork(
                subnet_name,
                name=subnet_name,
                project=args.project,
                region=region.name,
                network=self.vpc.id,
                # The whole CIDR: Managed Kafka Connect wants at least a /22.
                ip_cidr_range=str(region.cidr),
                private_ip_google_access=True,
                log_config=gcp.compute.SubnetworkLogConfigArgs(
                    aggregation_interval=FLOW_LOG_INTERVAL, flow_sampling=1.0, metadata="INCLUDE_ALL_METADATA"
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[key]),
            )
        ports = [str(p) for p in network.KAFKA_PORTS[geo.GCP]]
        self.kafka_sources = sorted(args.kafka_client_cidrs)
        self.firewall = gcp.compute.Firewall(
            f"{name}-kafka",
            name=f"{name}-kafka",
            project=args.project,
            network=self.vpc.id,
            direction="INGRESS",
            description="Managed Kafka (SASL over TLS) from the stack's regions only",
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=ports)],
            source_ranges=self.kafka_sources,
            opts=child,
        )
        self.dns_policy = None
        if args.inbound_dns:
            self.dns_policy = gcp.dns.Policy(
                f"{name}-inbound-dns",
                name=f"{name}-inbound-dns",
                project=args.project,
                description="Answers AWS resolvers asking for Managed Kafka broker names",
                enable_inbound_forwarding=True,
                networks=[gcp.dns.PolicyNetworkArgs(network_url=self.vpc.id)],
                opts=child,
            )
        self.register_outputs(
            {
                "networkId": self.vpc.id,
                "subnetIds": {k: s.id for k, s in self.subnets.items()},
                "firewallId": self.firewall.id,
            }
        )


@dataclass(frozen=True)
class GcpRegionNetwork:
    """One GCP region's view of the global VPC, as the walk hands it around."""

    region: Region
    project: str
    network: GcpNetwork
    subnet: gcp.compute.Subnetwork
    # The region's provider, and the provider of the project's global resources.
    provider: pulumi.ProviderResource
    global_provider: pulumi.ProviderResource

    @property
    def vpc(self) -> gcp.compute.Network:
        return self.network.vpc

    def subnet_path(self) -> pulumi.Output[str]:
        """projects/P/regions/R/subnetworks/S: the form Managed Kafka asks for."""
        return self.subnet.name.apply(lambda n: f"projects/{self.project}/regions/{self.region.name}/subnetworks/{n}")


def realize_networks(ctx: Context, regions: Sequence[Region]) -> dict[str, GcpRegionNetwork]:
    """The one VPC of the stack, seen from each planned GCP region."""
    cfg = ctx.plan.config
    glob = gcp_provider.global_provider(ctx)
    providers = {r.key: ctx.provider(r) for r in regions}
    net = GcpNetwork(
        f"{ctx.prefix}-gcp",
        GcpNetworkArgs(
            project=ctx.gcp_project,
            regions={r.key: r for r in regions},
            providers=providers,
            kafka_client_cidrs=[str(r.cidr) for r in cfg.regions.values()],
            inbound_dns=ctx.plan.gcp_inbound_dns,
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=glob),
    )
    return {
        r.key: GcpRegionNetwork(r, ctx.gcp_project, net, net.subnets[r.key], providers[r.key], glob) for r in regions
    }


def realize_shared_vpc(ctx: Context, link: Link, hub: Network, spoke: Network) -> GcpNetwork:
    """Two GCP regions are linked by being subnets of the one VPC: nothing to add."""
    return expect(hub, GcpRegionNetwork, f"link {link.key}").network
