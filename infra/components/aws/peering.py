"""Hub <-> spoke across two AWS regions: VPC peering, routes both ways."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.components.aws.network import AwsNetwork
from infra.components.base import Context, Network, expect
from infra.plan import Link


@dataclass(frozen=True)
class VpcPeeringArgs:
    # The hub's network requests the peering, in the hub's region.
    hub: AwsNetwork
    hub_provider: pulumi.ProviderResource
    # The spoke's network accepts it, in the spoke's region.
    spoke: AwsNetwork
    spoke_provider: pulumi.ProviderResource


class VpcPeering(pulumi.ComponentResource):
    """Inter-region VPC peering, requested by the hub and accepted by the spoke.

    Each side's private route table gets a route to the other side's CIDR.
    Peering (not Transit Gateway): the topology is a star whose spokes only
    talk to the hub, peering has no hourly or per-GB processing charge, and it
    is not transitive, which is exactly the isolation between spokes we want.
    """

    TYPE = "multicloud-kafka:aws:VpcPeering"

    def __init__(self, name: str, args: VpcPeeringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        hub, spoke = args.hub, args.spoke
        on_hub = pulumi.ResourceOptions(parent=self, provider=args.hub_provider)
        on_spoke = pulumi.ResourceOptions(parent=self, provider=args.spoke_provider)
        self.connection = aws.ec2.VpcPeeringConnection(
            f"{name}-request",
            vpc_id=hub.vpc.id,
            peer_vpc_id=spoke.vpc.id,
            peer_region=spoke.region.name,
            # Inter-region peering cannot be auto-accepted by the requester.
            auto_accept=False,
            tags={"Name": name},
            opts=on_hub,
        )
        self.accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accept",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={"Name": name},
            opts=on_spoke,
        )
        after_accept = pulumi.ResourceOptions(depends_on=[self.accepter])
        self.hub_route = aws.ec2.Route(
            f"{name}-to-spoke",
            route_table_id=hub.route_table.id,
            destination_cidr_block=str(spoke.region.cidr),
            vpc_peering_connection_id=self.connection.id,
            opts=pulumi.ResourceOptions.merge(on_hub, after_accept),
        )
        self.spoke_route = aws.ec2.Route(
            f"{name}-to-hub",
            route_table_id=spoke.route_table.id,
            destination_cidr_block=str(hub.region.cidr),
            vpc_peering_connection_id=self.connection.id,
            opts=pulumi.ResourceOptions.merge(on_spoke, after_accept),
        )
        self.register_outputs({"peeringConnectionId": self.connection.id})


def realize_peering(ctx: Context, link: Link, hub_network: Network, spoke_network: Network) -> VpcPeering:
    hub = expect(hub_network, AwsNetwork, f"link {link.key}")
    spoke = expect(spoke_network, AwsNetwork, f"link {link.key}")
    return VpcPeering(
        f"{ctx.prefix}-{naming.region_slug(hub.region)}-to-{naming.region_slug(spoke.region)}",
        VpcPeeringArgs(
            hub=hub,
            hub_provider=ctx.provider(hub.region),
            spoke=spoke,
            spoke_provider=ctx.provider(spoke.region),
        ),
        pulumi.ResourceOptions(parent=ctx.parent),
    )
