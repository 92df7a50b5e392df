"""The private network of one AWS region: VPC, a subnet per AZ (by zone ID), routes, Kafka SG."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import aws_rules, geo, key_policies, naming, network
from infra.components.base import Context
from infra.geo import Region

HTTPS_PORT = 443


def _nth(i: int) -> Callable[[Sequence[str]], str]:
    """The i-th of the chosen zone IDs."""
    return lambda ids: ids[i]


@dataclass(frozen=True)
class AwsNetworkArgs:
    region: Region
    # CIDRs admitted to the Kafka ports: every region of the plan, since any
    # of them may produce to or consume from a cluster in this VPC.
    kafka_client_cidrs: Sequence[str]
    # Days every log group of the region keeps (`multicloud-kafka:logRetentionDays`).
    log_retention_days: int = aws_rules.DEFAULT_LOG_RETENTION_DAYS


class AwsNetwork(pulumi.ComponentResource):
    """A VPC with one private subnet per AZ and no route to the internet.

    The AZs are chosen by zone ID among the region's real availability zones
    (no Local or Wavelength Zones), skipping MSK's unsupported ones and
    preferring those the regional API's VPC link accepts
    (`infra.aws_rules.choose_zones`); a region with too few fails the
    deployment with a message naming the zones it found.

    The subnets share one route table, so a peering adds one route per VPC.
    The Kafka security group (made only where a cluster or a replicator
    uses it, `kafka_security_group`) admits only the Kafka ports of MSK (TLS, SASL/SCRAM,
    IAM) and only from `kafka_client_cidrs`; egress is limited the same way
    (the MSK Replicator's network interfaces use it to reach brokers).

    Secure by default (docs/security.md): the VPC's default security group is
    taken under management with no rules, so nothing placed in it by accident
    can talk; every flow of the VPC is logged to CloudWatch. The region's log
    groups (flow logs here; broker, Connect worker and API access logs in the
    components that use this network) share one customer KMS key (`log_key`)
    whose policy lets CloudWatch Logs use it for this account's log groups
    only, and keep their events `log_retention_days`.
    """

    TYPE = "multicloud-kafka:aws:Network"

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        self.region = args.region
        child = pulumi.ResourceOptions(parent=self)
        cidr = args.region.cidr
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(cidr),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
            opts=child,
        )
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default", vpc_id=self.vpc.id, tags={"Name": f"{name}-default"}, opts=child
        )
        self.log_retention_days = args.log_retention_days
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        region_name = args.region.name
        self.log_key = aws.kms.Key(
            f"{name}-logs",
            description=f"{name}: the region's CloudWatch log groups",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=identity.apply(
                lambda i: json.dumps(
                    key_policies.logs_key_policy(key_policies.partition_of(i.arn), i.account_id, region_name)
                )
            ),
            opts=child,
        )
        self._flow_logs(name, identity, child)
        # No `state` filter: a zone that is impaired for a while must not move
        # the subnets (and with them the brokers) to another zone.
        zones = aws.get_availability_zones_output(
            filters=[
                aws.GetAvailabilityZonesFilterArgs(
                    name=aws_rules.ZONE_TYPE_FILTER_NAME, values=aws_rules.ZONE_TYPE_VALUES
                )
            ],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        region = args.region.name
        chosen = zones.zone_ids.apply(lambda ids: aws_rules.choose_zones(region, ids))
        self.route_table = aws.ec2.RouteTable(
            f"{name}-private", vpc_id=self.vpc.id, tags={"Name": f"{name}-private"}, opts=child
        )
        self.subnets = []
        for i, subnet_cidr in enumerate(network.az_subnets(cidr, aws_rules.az_count(region))):
            subnet = aws.ec2.Subnet(
                f"{name}-az{i + 1}",
                vpc_id=self.vpc.id,
                cidr_block=str(subnet_cidr),
                availability_zone_id=chosen.apply(_nth(i)),
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-az{i + 1}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-az{i + 1}", subnet_id=subnet.id, route_table_id=self.route_table.id, opts=child
            )
            self.subnets.append(subnet)
        self._name = name
        self._kafka_client_cidrs = sorted(args.kafka_client_cidrs)
        self._security_group: aws.ec2.SecurityGroup | None = None
        self._secrets_endpoint: aws.ec2.VpcEndpoint | None = None
        self.subnet_ids = [s.id for s in self.subnets]
        # The subnets an HTTP API VPC link accepts: all of them but in regions
        # with too few such zones for the brokers (infra/aws_rules.py).
        self.vpc_link_subnet_ids = pulumi.Output.all(chosen, *self.subnet_ids).apply(
            lambda v: [sid for zone, sid in zip(v[0], v[1:], strict=True) if aws_rules.vpc_link_accepts(region, zone)]
        )
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "subnetIds": self.subnet_ids,
                "routeTableId": self.route_table.id,
                "logKeyArn": self.log_key.arn,
            }
        )

    def kafka_security_group(self) -> aws.ec2.SecurityGroup:
        """The Kafka security group, made on first use: a region with no cluster and no
        connector (a spoke that only produces) gets none, so no group is left unused."""
        if self._security_group is None:
            name, cidrs = self._name, self._kafka_client_cidrs
            ports = network.KAFKA_PORTS[geo.AWS]
            self._security_group = aws.ec2.SecurityGroup(
                f"{name}-kafka",
                name=f"{name}-kafka",
                description="Kafka (MSK TLS, SASL/SCRAM, IAM) from the stack's regions only",
                vpc_id=self.vpc.id,
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        protocol="tcp", from_port=port, to_port=port, cidr_blocks=cidrs, description=f"Kafka {port}"
                    )
                    for port in ports
                ],
                egress=[
                    aws.ec2.SecurityGroupEgressArgs(
                        protocol="tcp", from_port=port, to_port=port, cidr_blocks=cidrs, description=f"Kafka {port}"
                    )
                    for port in ports
                ],
                tags={"Name": f"{name}-kafka"},
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self._security_group

    def secrets_manager_endpoint(self) -> aws.ec2.VpcEndpoint:
        """Secrets Manager's interface endpoint in every subnet, made on first use, with private DNS so that
        the SDK's default regional name resolves to it; HTTPS from this VPC only."""
        if self._secrets_endpoint is None:
            name, region = self._name, self.region
            opts = pulumi.ResourceOptions(parent=self)
            group = aws.ec2.SecurityGroup(
                f"{name}-secretsmanager",
                name=f"{name}-secretsmanager",
                description="HTTPS to the Secrets Manager endpoint from this VPC only",
                vpc_id=self.vpc.id,
                ingress=[
                    aws.ec2.SecurityGroupIngressArgs(
                        protocol="tcp",
                        from_port=HTTPS_PORT,
                        to_port=HTTPS_PORT,
                        cidr_blocks=[str(region.cidr)],
                        description="HTTPS from the VPC",
                    )
                ],
                egress=[],
                tags={"Name": f"{name}-secretsmanager"},
                opts=opts,
            )
            self._secrets_endpoint = aws.ec2.VpcEndpoint(
                f"{name}-secretsmanager",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region.name}.secretsmanager",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.subnet_ids,
                security_group_ids=[group.id],
                tags={"Name": f"{name}-secretsmanager"},
                opts=opts,
            )
        return self._secrets_endpoint

    def log_group(self, name: str, log_group_name: str, opts: pulumi.ResourceOptions) -> aws.cloudwatch.LogGroup:
        """A log group of this region: under its log key, kept the stack's retention."""
        return log_group(name, log_group_name, self.log_key.arn, self.log_retention_days, opts)

    def _flow_logs(
        self, name: str, identity: pulumi.Output[aws.GetCallerIdentityResult], child: pulumi.ResourceOptions
    ) -> None:
        """Every flow of the VPC (accepted and rejected) to an encrypted log group, through a role of its own."""
        region_name = self.region.name
        self.flow_log_group = self.log_group(f"{name}-flows", f"/vpc/{name}/flows", child)
        role = aws.iam.Role(
            f"{name}-flows",
            assume_role_policy=identity.apply(
                lambda i: json.dumps(
                    key_policies.flow_logs_trust(key_policies.partition_of(i.arn), i.account_id, region_name)
                )
            ),
            description=f"VPC flow logs of {name} publish to their log group",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flows",
            role=role.id,
            policy=self.flow_log_group.arn.apply(lambda arn: json.dumps(key_policies.flow_logs_publish(arn))),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flows",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            tags={"Name": f"{name}-flows"},
            opts=child,
        )


def log_group(
    name: str, log_group_name: str, key_arn: pulumi.Input[str], retention_days: int, opts: pulumi.ResourceOptions
) -> aws.cloudwatch.LogGroup:
    """A CloudWatch log group under a customer key, kept `retention_days` (0: never expires)."""
    return aws.cloudwatch.LogGroup(
        name,
        name=log_group_name,
        kms_key_id=key_arn,
        retention_in_days=retention_days or None,
        tags={"Name": name},
        opts=opts,
    )


def realize_networks(ctx: Context, regions: Sequence[Region]) -> dict[str, AwsNetwork]:
    """One VPC per AWS region of the plan."""
    cidrs = [str(r.cidr) for r in ctx.plan.config.regions.values()]
    return {
        region.key: AwsNetwork(
            naming.resource_name(ctx.prefix, region),
            AwsNetworkArgs(region, cidrs, ctx.plan.config.log_retention_days),
            pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(region)),
        )
        for region in regions
    }
