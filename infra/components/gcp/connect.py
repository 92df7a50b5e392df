"""One mirror flow into a GCP cluster: Managed Kafka Connect running MirrorMaker 2."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra import access, geo, mirrormaker
from infra.components.base import Context, Site, expect
from infra.components.crosscloud import endpoints
from infra.components.crosscloud.ha_vpn import gcp_name
from infra.components.gcp.managed_kafka import GIB, ManagedKafkaCluster
from infra.components.gcp.network import GcpRegionNetwork
from infra.plan import MirrorFlow

# Managed Kafka Connect's minimum is 3 vCPUs and 3 GiB; MirrorMaker 2 for a
# region's few topics needs no more CPU, and the heap likes 4 GiB per vCPU.
CONNECT_VCPU = 3
CONNECT_MEMORY_GIB = 12
# A failed task is restarted with backoff instead of staying failed.
RESTART_MIN_BACKOFF = "60s"
RESTART_MAX_BACKOFF = "1800s"


@dataclass(frozen=True)
class ManagedKafkaMirrorArgs:
    project: str
    location: str
    flow: MirrorFlow
    # projects/P/locations/L/clusters/C of the target: the Connect cluster's
    # primary cluster, so its own topics and the mirrored ones live there.
    target_cluster: pulumi.Input[str]
    # projects/P/regions/R/subnetworks/S: where the workers get addresses.
    subnet: pulumi.Input[str]
    source: mirrormaker.Endpoint
    target: mirrormaker.Endpoint
    # Private DNS domains of the VPC the workers must resolve (a Managed Kafka
    # source's own domain); public names (MSK's) need none. Default: none.
    dns_domains: Sequence[pulumi.Input[str]] = ()
    # Resources to exist first: the target's topics, the source's logins.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)


class ManagedKafkaMirror(pulumi.ComponentResource):
    """A Connect cluster on the target, with MirrorMaker 2's source and checkpoint connectors.

    Both connector configurations come from `infra.mirrormaker.connector_configs`,
    the one generator every MirrorMaker 2 of this project uses; the source's
    password or key sits in them as a Pulumi secret.
    """

    TYPE = "multicloud-kafka:gcp:ManagedKafkaMirror"

    def __init__(self, name: str, args: ManagedKafkaMirrorArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        self.connect = gcp.managedkafka.ConnectCluster(
            name,
            connect_cluster_id=gcp_name(name),
            project=args.project,
            location=args.location,
            kafka_cluster=args.target_cluster,
            capacity_config=gcp.managedkafka.ConnectClusterCapacityConfigArgs(
                vcpu_count=str(CONNECT_VCPU), memory_bytes=str(CONNECT_MEMORY_GIB * GIB)
            ),
            gcp_config=gcp.managedkafka.ConnectClusterGcpConfigArgs(
                access_config=gcp.managedkafka.ConnectClusterGcpConfigAccessConfigArgs(
                    network_configs=[
                        gcp.managedkafka.ConnectClusterGcpConfigAccessConfigNetworkConfigArgs(
                            primary_subnet=args.subnet,
                            dns_domain_names=list(args.dns_domains) or None,
                        )
                    ]
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        configs = mirrormaker.connector_configs(args.flow, args.source, args.target)
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.connect, *args.depends_on])
        self.connectors: dict[str, gcp.managedkafka.Connector] = {
            connector: gcp.managedkafka.Connector(
                f"{name}-{role}",
                connector_id=connector,
                connect_cluster=self.connect.connect_cluster_id,
                project=args.project,
                location=args.location,
                configs=configs[connector],
                task_restart_policy=gcp.managedkafka.ConnectorTaskRestartPolicyArgs(
                    minimum_backoff=RESTART_MIN_BACKOFF, maximum_backoff=RESTART_MAX_BACKOFF
                ),
                opts=after,
            )
            for role, connector in mirrormaker.connector_names(args.flow).items()
        }
        self.register_outputs(
            {"connectCluster": self.connect.name, "connectors": {k: c.name for k, c in self.connectors.items()}}
        )


def dns_domain(bootstrap: pulumi.Input[str]) -> pulumi.Output[str]:
    """bootstrap.C.R.managedkafka.P.cloud.goog:9092 -> C.R.managedkafka.P.cloud.goog."""
    return pulumi.Output.from_input(bootstrap).apply(lambda b: b.rsplit(":", 1)[0].removeprefix("bootstrap."))


def realize_mirror(ctx: Context, flow: MirrorFlow, source: Site, target: Site) -> ManagedKafkaMirror:
    region = target.plan.region
    cluster = expect(target.cluster, ManagedKafkaCluster, f"mirror flow {flow.key}")
    net = expect(target.network, GcpRegionNetwork, f"mirror flow {flow.key}")
    src = endpoints.endpoint(ctx.plan, source, access.mirror_key(flow.key))
    dst = endpoints.endpoint(ctx.plan, target, access.mirror_key(flow.key))
    domains = [dns_domain(src.bootstrap)] if source.plan.region.cloud == geo.GCP else []
    return ManagedKafkaMirror(
        ctx.plan.flow_name(flow),
        ManagedKafkaMirrorArgs(
            project=ctx.gcp_project,
            location=region.name,
            flow=flow,
            target_cluster=cluster.path,
            subnet=net.subnet_path(),
            source=src,
            target=dst,
            dns_domains=domains,
            # A source in the other cloud is across a VPN: the connectors wait
            # for its link (tunnels, BGP, DNS forwarding), and for the ACLs
            # that let the flow read the source and write the target.
            depends_on=[
                expect(source.cluster, pulumi.Resource, flow.key),
                *ctx.grants.get(source.plan.key, []),
                *ctx.grants.get(target.plan.key, []),
                *target.topics.topics.values(),
                *ctx.path(source.plan.region.key, region.key),
            ],
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=net.provider),
    )
