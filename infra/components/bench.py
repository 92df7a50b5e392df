"""Benchmark: the whole program under mocks vs the bare SDK registering the same resources.

Run it with `scripts/bench`. Both sides run in this process, alternately, on
the same mocks; the bare side is hand-written straight-line SDK calls over
the region and event lists (no config validation, no plan, no components),
registering exactly the same resource types in the same numbers, which the
benchmark checks before it reports the times.
"""

from __future__ import annotations

import argparse
import collections
import json
import runpy
import statistics
import sys
import threading
import time
from pathlib import Path

import pulumi
import pulumi_aws as aws
from pulumi.runtime.mocks import MockMonitor

from infra import geo
from infra.components import bench_mixed, mocks

MAIN = str(Path(__file__).resolve().parents[2] / "__main__.py")
HUB = "us-east-1"


def regions(count: int) -> list[str]:
    """`count` AWS regions, the hub first, in a stable order."""
    others = sorted(r for r in geo.AWS_REGIONS if r != HUB)
    return [HUB, *others[: count - 1]]


def config(region_names: list[str], events: int) -> dict[str, str]:
    return {
        "multicloud-kafka:architecture": "regional-clusters",
        "multicloud-kafka:hub": f"aws/{HUB}",
        "multicloud-kafka:regions": json.dumps(
            {f"aws/{r}": {"cidr": f"10.{i + 1}.0.0/16"} for i, r in enumerate(region_names)}
        ),
        "multicloud-kafka:events": json.dumps({f"event_{i:03d}": {} for i in range(events)}),
        "multicloud-kafka:protect": "false",
    }


class CountingMonitor(MockMonitor):
    """MockMonitor that counts custom resources by type, nothing more."""

    def __init__(self, m):
        super().__init__(m)
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()

    def RegisterResource(self, request):
        if request.custom:
            with self._lock:
                self.counts[request.type] += 1
        return super().RegisterResource(request)


def ours() -> None:
    runpy.run_path(MAIN)


def bare(region_names: list[str], events: int):
    """The same AWS resources, written directly against the SDK."""

    def program() -> None:
        cidrs = [f"10.{i + 1}.0.0/16" for i in range(len(region_names))]
        tokens = {r: r.replace("-", "_").upper() for r in region_names}
        names = [f"EVENT_{i:03d}" for i in range(events)]
        providers, vpcs, tables, subnets, sgs, clusters, topics = {}, {}, {}, {}, {}, {}, {}
        for i, r in enumerate(region_names):
            p = aws.Provider(f"b-{r}", region=r)
            o = pulumi.ResourceOptions(provider=p)
            providers[r] = p
            vpc = aws.ec2.Vpc(f"b-{r}-vpc", cidr_block=cidrs[i], enable_dns_support=True, enable_dns_hostnames=True, opts=o)
            zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(provider=p))
            table = aws.ec2.RouteTable(f"b-{r}-rt", vpc_id=vpc.id, opts=o)
            subnets[r] = []
            for z in range(3):
                s = aws.ec2.Subnet(
                    f"b-{r}-az{z}", vpc_id=vpc.id, cidr_block=f"10.{i + 1}.{z * 64}.0/18",
                    availability_zone=zones.names.apply(lambda n, z=z: n[z]), opts=o,
                )
                aws.ec2.RouteTableAssociation(f"b-{r}-az{z}", subnet_id=s.id, route_table_id=table.id, opts=o)
                subnets[r].append(s.id)
            rules = [aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=port, to_port=port, cidr_blocks=cidrs) for port in (9094, 9096, 9098)]
            sgs[r] = aws.ec2.SecurityGroup(
                f"b-{r}-sg", vpc_id=vpc.id, ingress=rules,
                egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=port, to_port=port, cidr_blocks=cidrs) for port in (9094, 9096, 9098)],
                opts=o,
            )
            vpcs[r], tables[r] = vpc, table
            key = aws.kms.Key(f"b-{r}-key", enable_key_rotation=True, opts=o)
            conf = aws.msk.Configuration(f"b-{r}-conf", kafka_versions=["3.9.x"], server_properties="auto.create.topics.enable=false\n", opts=o)
            logs = aws.cloudwatch.LogGroup(f"b-{r}-logs", retention_in_days=30, opts=o)
            clusters[r] = aws.msk.Cluster(
                f"b-{r}", cluster_name=f"b-{r}", kafka_version="3.9.x", number_of_broker_nodes=3,
                broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
                    client_subnets=subnets[r], instance_type="kafka.m7g.large", security_groups=[sgs[r].id]
                ),
                encryption_info=aws.msk.ClusterEncryptionInfoArgs(encryption_at_rest_kms_key_arn=key.arn),
                configuration_info=aws.msk.ClusterConfigurationInfoArgs(arn=conf.arn, revision=conf.latest_revision),
                logging_info=aws.msk.ClusterLoggingInfoArgs(
                    broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                        cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(enabled=True, log_group=logs.name)
                    )
                ),
                opts=o,
            )
            # The hub holds every region's topics; each other region its own.
            on_this = [t for t in [f"{n}_AWS_{tokens[x]}" for x in region_names for n in names]] if r == HUB else [f"{n}_AWS_{tokens[r]}" for n in names]
            topics[r] = [
                aws.msk.Topic(f"b-{r}-{t}", name=t, cluster_arn=clusters[r].arn, partition_count=6, replication_factor=3,
                              configs='{"retention.ms": "604800000"}', opts=o)
                for t in on_this
            ]
        for r in region_names[1:]:
            hub_o, spoke_o = pulumi.ResourceOptions(provider=providers[HUB]), pulumi.ResourceOptions(provider=providers[r])
            pcx = aws.ec2.VpcPeeringConnection(f"b-{r}-pcx", vpc_id=vpcs[HUB].id, peer_vpc_id=vpcs[r].id, peer_region=r, opts=hub_o)
            acc = aws.ec2.VpcPeeringConnectionAccepter(f"b-{r}-acc", vpc_peering_connection_id=pcx.id, auto_accept=True, opts=spoke_o)
            aws.ec2.Route(f"b-{r}-to", route_table_id=tables[HUB].id, destination_cidr_block="10.0.0.0/16", vpc_peering_connection_id=pcx.id,
                          opts=pulumi.ResourceOptions(provider=providers[HUB], depends_on=[acc]))
            aws.ec2.Route(f"b-{r}-from", route_table_id=tables[r].id, destination_cidr_block="10.1.0.0/16", vpc_peering_connection_id=pcx.id,
                          opts=pulumi.ResourceOptions(provider=providers[r], depends_on=[acc]))
            role = aws.iam.Role(f"b-{r}-role", assume_role_policy='{"Version": "2012-10-17"}', opts=spoke_o)
            policy = aws.iam.RolePolicy(
                f"b-{r}-policy", role=role.id,
                policy=pulumi.Output.all(clusters[HUB].arn, clusters[r].arn).apply(lambda a: json.dumps({"Resource": a})), opts=spoke_o,
            )
            own = [f"{n}_AWS_{tokens[r]}" for n in names]
            aws.msk.Replicator(
                f"b-{r}-rep", replicator_name=f"b-{r}", service_execution_role_arn=role.arn,
                kafka_clusters=[
                    aws.msk.ReplicatorKafkaClusterArgs(
                        amazon_msk_cluster=aws.msk.ReplicatorKafkaClusterAmazonMskClusterArgs(msk_cluster_arn=clusters[x].arn),
                        vpc_config=aws.msk.ReplicatorKafkaClusterVpcConfigArgs(subnet_ids=subnets[x], security_groups_ids=[sgs[x].id]),
                    )
                    for x in (HUB, r)
                ],
                replication_info_list=aws.msk.ReplicatorReplicationInfoListArgs(
                    source_kafka_cluster_arn=clusters[HUB].arn, target_kafka_cluster_arn=clusters[r].arn, target_compression_type="LZ4",
                    topic_replications=[aws.msk.ReplicatorReplicationInfoListTopicReplicationArgs(topics_to_replicates=own)],
                    consumer_group_replications=[aws.msk.ReplicatorReplicationInfoListConsumerGroupReplicationArgs(consumer_groups_to_replicates=[".*"])],
                ),
                opts=pulumi.ResourceOptions(provider=providers[r], depends_on=[policy, *topics[r]]),
            )

    return program


def timed(program, cfg: dict) -> tuple[float, float, collections.Counter]:
    """(wall seconds, CPU seconds of this process, custom resources by type) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    monitor, _, _ = mocks.run(program, cfg, "bench", monitor_cls=CountingMonitor)
    return time.perf_counter() - wall, time.process_time() - cpu, monitor.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=12)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, alternating; the median is reported")
    parser.add_argument("--gcp", type=int, default=0, help="GCP spokes beside the AWS regions (mixed-cloud topology)")
    args = parser.parse_args(argv)
    names = regions(args.regions)
    if args.gcp:
        gcp_names = bench_mixed.gcp_regions(args.gcp)
        cfg = bench_mixed.config(names, gcp_names, args.events)
        sides = {"ours": ours, "bare": bench_mixed.bare(names, gcp_names, args.events)}
    else:
        cfg = config(names, args.events)
        sides = {"ours": ours, "bare": bare(names, args.events)}
    # One untimed run each first: imports and the SDK's first-use caches.
    for program in sides.values():
        timed(program, cfg)
    wall: dict[str, list[float]] = {"ours": [], "bare": []}
    cpu: dict[str, list[float]] = {"ours": [], "bare": []}
    counts: dict[str, collections.Counter] = {}
    for _ in range(args.repeat):
        for side, program in sides.items():
            w, c, counts[side] = timed(program, cfg)
            wall[side].append(w)
            cpu[side].append(c)
    # Providers aside, both sides must register the same resource types in the same numbers.
    if counts["ours"] != counts["bare"]:
        diff = {t: (counts["ours"][t], counts["bare"][t]) for t in counts["ours"] | counts["bare"] if counts["ours"][t] != counts["bare"][t]}
        print(f"bench: the two sides registered different resources (ours, bare): {diff}", file=sys.stderr)
        return 1
    total = sum(counts["ours"].values())
    where = f"{args.regions} AWS regions" + (f" and {args.gcp} GCP regions" if args.gcp else "")
    print(f"regional-clusters, {where}, {args.events} events: {total} resources per run, same on both sides")
    for t, n in sorted(counts["ours"].items()):
        print(f"  {n:6d}  {t}")
    for label, series in (("CPU", cpu), ("wall", wall)):
        o, b = statistics.median(series["ours"]), statistics.median(series["bare"])
        print(f"{label:4s}  ours {o:6.2f}s  bare SDK {b:6.2f}s  ratio {o / b:.2f}x   (medians of {args.repeat})")
    print("target: ratio <= 1.20x; CPU time is the figure to compare, wall time also counts other processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
