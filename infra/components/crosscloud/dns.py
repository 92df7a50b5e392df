"""AWS resolvers asking Cloud DNS for Managed Kafka's private broker names.

Managed Kafka publishes its bootstrap and broker names
(`*.<region>.managedkafka.<project>.cloud.goog`) in a private zone of the
VPC, invisible from AWS. Cloud DNS inbound forwarding (the GCP network's
server policy) answers queries arriving over the VPN at addresses it takes
in each subnet; a Route 53 Resolver outbound endpoint and forwarding rule
send the region's Managed Kafka domain there.

The other way needs nothing: MSK's broker names are in public DNS and
resolve to the brokers' private addresses, which GCP reaches over the VPN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from infra.geo import Region

DNS_PORT = 53


@dataclass(frozen=True)
class GcpNameForwardingArgs:
    project: str
    gcp_region: Region
    # The planned domain: the GCP region's Managed Kafka names.
    domain: str
    # The GCP subnet whose inbound forwarder addresses answer, and the DNS
    # server policy that creates them.
    gcp_subnet_self_link: pulumi.Input[str]
    dns_policy: pulumi.Resource
    vpc_id: pulumi.Input[str]
    # Two subnets in different AZs: Route 53 Resolver wants two addresses.
    subnet_ids: Sequence[pulumi.Input[str]]
    aws_provider: pulumi.ProviderResource
    gcp_provider: pulumi.ProviderResource


class ForwardersNotReady(RuntimeError):
    """Cloud DNS has not yet given the server policy its addresses in the subnet."""


def forwarder_targets(region: Region, addresses: Sequence[Any]) -> list[aws.route53.ResolverRuleTargetIpArgs]:
    """The resolver rule's targets; a clear error instead of a rule with none.

    The server policy's inbound addresses appear in each subnet once Cloud DNS
    has made them, which can trail the policy's creation. A preview knows
    none yet (the invoke waits on the policy), so only a deployment fails.
    """
    if not addresses:
        if pulumi.runtime.is_dry_run():
            return []
        raise ForwardersNotReady(
            f"Cloud DNS has no inbound forwarder address in the subnet of {region.key} yet: the DNS server policy "
            "is new and GCP assigns its addresses shortly after; run `pulumi up` again in a minute"
        )
    return [aws.route53.ResolverRuleTargetIpArgs(ip=a.address, port=DNS_PORT) for a in addresses]


class GcpNameForwarding(pulumi.ComponentResource):
    """Forwards one GCP region's Managed Kafka domain from one AWS VPC to Cloud DNS."""

    TYPE = "multicloud-kafka:crosscloud:GcpNameForwarding"

    def __init__(self, name: str, args: GcpNameForwardingArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        on_aws = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        cidr = str(args.gcp_region.cidr)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-dns",
            name=f"{name}-dns",
            description=f"DNS queries to Cloud DNS in {args.gcp_region.key} only",
            vpc_id=args.vpc_id,
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol=proto, from_port=DNS_PORT, to_port=DNS_PORT, cidr_blocks=[cidr], description=f"DNS/{proto}"
                )
                for proto in ("udp", "tcp")
            ],
            tags={"Name": f"{name}-dns"},
            opts=on_aws,
        )
        self.endpoint = aws.route53.ResolverEndpoint(
            f"{name}-out",
            name=f"{name}-out",
            direction="OUTBOUND",
            security_group_ids=[self.security_group.id],
            ip_addresses=[aws.route53.ResolverEndpointIpAddressArgs(subnet_id=s) for s in args.subnet_ids[:2]],
            opts=on_aws,
        )
        # The policy takes one address per subnet, named by GCP; read them back.
        forwarders = gcp.compute.get_addresses_output(
            project=args.project,
            region=args.gcp_region.name,
            filter=pulumi.Output.from_input(args.gcp_subnet_self_link).apply(
                lambda link: f'purpose="DNS_RESOLVER" AND subnetwork="{link}"'
            ),
            opts=pulumi.InvokeOutputOptions(provider=args.gcp_provider, depends_on=[args.dns_policy], parent=self),
        )
        self.domain = args.domain
        self.rule = aws.route53.ResolverRule(
            f"{name}-fwd",
            name=f"{name}-fwd",
            domain_name=self.domain,
            rule_type="FORWARD",
            resolver_endpoint_id=self.endpoint.id,
            target_ips=forwarders.addresses.apply(lambda addrs: forwarder_targets(args.gcp_region, addrs)),
            opts=on_aws,
        )
        aws.route53.ResolverRuleAssociation(
            f"{name}-fwd", resolver_rule_id=self.rule.id, vpc_id=args.vpc_id, opts=on_aws
        )
        self.register_outputs({"domain": self.domain, "ruleId": self.rule.id})
