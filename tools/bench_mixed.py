"""The topology of the mocks benchmark: AWS hub, AWS spokes and any GCP spokes.

`scripts/bench` uses it (`--gcp N` adds GCP spokes): the bare-SDK program
that registers exactly the resources the whole program registers for it
(VPCs, MSK with SCRAM users for the GCP regions, the GCP VPC, Managed Kafka
clusters and topics, VPC peering and MSK Replicator per AWS spoke, HA VPN and
MirrorMaker 2 on Managed Kafka Connect per GCP spoke), written straight
against the SDK with no config, plan or components.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_random as random

from tests.support.stacks import PROJECT

HUB = "us-east-1"
KAFKA_PORTS = (9094, 9096, 9098)


def bare(aws_names: list[str], gcp_names: list[str], events: int) -> Callable[[], None]:
    """The same resources as the whole program for `stacks.bench_config(...)`, by hand."""

    def program() -> None:
        names = [f"EVENT_{i:03d}" for i in range(events)]
        token = {("aws", r): f"AWS_{r.replace('-', '_').upper()}" for r in aws_names}
        token.update({("gcp", r): f"GCP_{r.replace('-', '_').upper()}" for r in gcp_names})
        cidr = {("aws", r): f"10.{i + 1}.0.0/16" for i, r in enumerate(aws_names)}
        cidr.update({("gcp", r): f"10.{i + 101}.0.0/16" for i, r in enumerate(gcp_names)})
        all_cidrs = sorted(cidr.values())
        ap, vpcs, tables, subnets, sgs, clusters, topics = {}, {}, {}, {}, {}, {}, {}
        passwords = {}
        for i, r in enumerate(aws_names):
            p = aws.Provider(f"b-{r}", region=r)
            o = pulumi.ResourceOptions(provider=p)
            ap[r] = p
            vpc = aws.ec2.Vpc(
                f"b-{r}-vpc", cidr_block=cidr[("aws", r)], enable_dns_support=True, enable_dns_hostnames=True, opts=o
            )
            zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(provider=p))
            table = aws.ec2.RouteTable(f"b-{r}-rt", vpc_id=vpc.id, opts=o)
            subnets[r] = []
            for z in range(3):
                s = aws.ec2.Subnet(
                    f"b-{r}-az{z}",
                    vpc_id=vpc.id,
                    cidr_block=f"10.{i + 1}.{z * 64}.0/18",
                    availability_zone=zones.names.apply(lambda n, z=z: n[z]),
                    opts=o,
                )
                aws.ec2.RouteTableAssociation(f"b-{r}-az{z}", subnet_id=s.id, route_table_id=table.id, opts=o)
                subnets[r].append(s.id)
            rules = [
                aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=x, to_port=x, cidr_blocks=all_cidrs)
                for x in KAFKA_PORTS
            ]
            sgs[r] = aws.ec2.SecurityGroup(
                f"b-{r}-sg",
                vpc_id=vpc.id,
                ingress=rules,
                egress=[
                    aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=x, to_port=x, cidr_blocks=all_cidrs)
                    for x in KAFKA_PORTS
                ],
                opts=o,
            )
            vpcs[r], tables[r] = vpc, table
            key = aws.kms.Key(f"b-{r}-key", enable_key_rotation=True, opts=o)
            conf = aws.msk.Configuration(
                f"b-{r}-conf", kafka_versions=["3.9.x"], server_properties="auto.create.topics.enable=false\n", opts=o
            )
            logs = aws.cloudwatch.LogGroup(f"b-{r}-logs", retention_in_days=30, opts=o)
            clusters[r] = aws.msk.Cluster(
                f"b-{r}",
                cluster_name=f"b-{r}",
                kafka_version="3.9.x",
                number_of_broker_nodes=3,
                broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
                    client_subnets=subnets[r], instance_type="kafka.m7g.large", security_groups=[sgs[r].id]
                ),
                encryption_info=aws.msk.ClusterEncryptionInfoArgs(encryption_at_rest_kms_key_arn=key.arn),
                client_authentication=aws.msk.ClusterClientAuthenticationArgs(
                    sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True, scram=r == HUB)
                ),
                configuration_info=aws.msk.ClusterConfigurationInfoArgs(arn=conf.arn, revision=conf.latest_revision),
                logging_info=aws.msk.ClusterLoggingInfoArgs(
                    broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                        cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(
                            enabled=True, log_group=logs.name
                        )
                    )
                ),
                opts=o,
            )
            # The hub holds every region's topics; each other AWS region its own.
            here = (
                [f"{n}_{t}" for t in token.values() for n in names]
                if r == HUB
                else [f"{n}_{token[('aws', r)]}" for n in names]
            )
            topics[r] = [
                aws.msk.Topic(
                    f"b-{r}-{t}",
                    name=t,
                    cluster_arn=clusters[r].arn,
                    partition_count=6,
                    replication_factor=3,
                    configs='{"retention.ms": "604800000"}',
                    opts=o,
                )
                for t in here
            ]
        hub_o = pulumi.ResourceOptions(provider=ap[HUB])
        # SCRAM users on the hub, one per GCP region (none for an AWS-only stack).
        if gcp_names:
            skey = aws.kms.Key("b-scram-key", enable_key_rotation=True, opts=hub_o)
            secrets, versions = [], []
            for g in gcp_names:
                pw = random.RandomPassword(f"b-scram-{g}", length=32, special=False)
                passwords[g] = pulumi.Output.secret(pw.result)
                secret = aws.secretsmanager.Secret(
                    f"b-scram-{g}", name=f"AmazonMSK_b_{g}", kms_key_id=skey.arn, opts=hub_o
                )
                versions.append(
                    aws.secretsmanager.SecretVersion(
                        f"b-scram-{g}",
                        secret_id=secret.id,
                        secret_string=pulumi.Output.json_dumps({"username": g, "password": pw.result}),
                        opts=hub_o,
                    )
                )
                aws.secretsmanager.SecretPolicy(
                    f"b-scram-{g}",
                    secret_arn=secret.arn,
                    policy=secret.arn.apply(lambda a: json.dumps({"Resource": a})),
                    opts=hub_o,
                )
                secrets.append(secret)
            aws.msk.ScramSecretAssociation(
                "b-scram",
                cluster_arn=clusters[HUB].arn,
                secret_arn_lists=[s.arn for s in secrets],
                opts=pulumi.ResourceOptions(provider=ap[HUB], depends_on=versions),
            )
        for r in aws_names[1:]:
            spoke_o = pulumi.ResourceOptions(provider=ap[r])
            pcx = aws.ec2.VpcPeeringConnection(
                f"b-{r}-pcx", vpc_id=vpcs[HUB].id, peer_vpc_id=vpcs[r].id, peer_region=r, opts=hub_o
            )
            acc = aws.ec2.VpcPeeringConnectionAccepter(
                f"b-{r}-acc", vpc_peering_connection_id=pcx.id, auto_accept=True, opts=spoke_o
            )
            aws.ec2.Route(
                f"b-{r}-to",
                route_table_id=tables[HUB].id,
                destination_cidr_block=cidr[("aws", r)],
                vpc_peering_connection_id=pcx.id,
                opts=pulumi.ResourceOptions(provider=ap[HUB], depends_on=[acc]),
            )
            aws.ec2.Route(
                f"b-{r}-from",
                route_table_id=tables[r].id,
                destination_cidr_block=cidr[("aws", HUB)],
                vpc_peering_connection_id=pcx.id,
                opts=pulumi.ResourceOptions(provider=ap[r], depends_on=[acc]),
            )
            role = aws.iam.Role(f"b-{r}-role", assume_role_policy='{"Version": "2012-10-17"}', opts=spoke_o)
            policy = aws.iam.RolePolicy(
                f"b-{r}-policy",
                role=role.id,
                policy=pulumi.Output.all(clusters[HUB].arn, clusters[r].arn).apply(
                    lambda a: json.dumps({"Resource": a})
                ),
                opts=spoke_o,
            )
            aws.msk.Replicator(
                f"b-{r}-rep",
                replicator_name=f"b-{r}",
                service_execution_role_arn=role.arn,
                kafka_clusters=[
                    aws.msk.ReplicatorKafkaClusterArgs(
                        amazon_msk_cluster=aws.msk.ReplicatorKafkaClusterAmazonMskClusterArgs(
                            msk_cluster_arn=clusters[x].arn
                        ),
                        vpc_config=aws.msk.ReplicatorKafkaClusterVpcConfigArgs(
                            subnet_ids=subnets[x], security_groups_ids=[sgs[x].id]
                        ),
                    )
                    for x in (HUB, r)
                ],
                replication_info_list=aws.msk.ReplicatorReplicationInfoListArgs(
                    source_kafka_cluster_arn=clusters[HUB].arn,
                    target_kafka_cluster_arn=clusters[r].arn,
                    target_compression_type="LZ4",
                    topic_replications=[
                        aws.msk.ReplicatorReplicationInfoListTopicReplicationArgs(
                            topics_to_replicates=[f"{n}_{token[('aws', r)]}" for n in names]
                        )
                    ],
                    consumer_group_replications=[
                        aws.msk.ReplicatorReplicationInfoListConsumerGroupReplicationArgs(
                            consumer_groups_to_replicates=[".*"]
                        )
                    ],
                ),
                opts=pulumi.ResourceOptions(provider=ap[r], depends_on=[policy, *topics[r]]),
            )

        # GCP: one VPC, a subnet, a cluster with its topics and MirrorMaker 2 per region.
        if not gcp_names:
            return
        glob = gcp.Provider("b-gcp", project=PROJECT)
        net = gcp.compute.Network(
            "b-net",
            name="b-net",
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=pulumi.ResourceOptions(provider=glob),
        )
        gcp.compute.Firewall(
            "b-kafka",
            network=net.id,
            direction="INGRESS",
            source_ranges=all_cidrs,
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=["9092"])],
            opts=pulumi.ResourceOptions(provider=glob),
        )
        vgw = aws.ec2.VpnGateway("b-vgw", vpc_id=vpcs[HUB].id, amazon_side_asn="64512", opts=hub_o)
        aws.ec2.VpnGatewayRoutePropagation("b-vgw-rt", vpn_gateway_id=vgw.id, route_table_id=tables[HUB].id, opts=hub_o)
        for j, g in enumerate(gcp_names):
            p = gcp.Provider(f"b-{g}", project=PROJECT, region=g)
            o = pulumi.ResourceOptions(provider=p)
            subnet = gcp.compute.Subnetwork(
                f"b-{g}",
                name=f"b-{g}",
                region=g,
                network=net.id,
                ip_cidr_range=cidr[("gcp", g)],
                private_ip_google_access=True,
                opts=o,
            )
            path = subnet.name.apply(lambda n, g=g: f"projects/{PROJECT}/regions/{g}/subnetworks/{n}")
            cluster = gcp.managedkafka.Cluster(
                f"b-{g}-kafka",
                cluster_id=f"b-{g}",
                location=g,
                capacity_config=gcp.managedkafka.ClusterCapacityConfigArgs(
                    vcpu_count="3", memory_bytes=str(12 * 1024**3)
                ),
                gcp_config=gcp.managedkafka.ClusterGcpConfigArgs(
                    access_config=gcp.managedkafka.ClusterGcpConfigAccessConfigArgs(
                        network_configs=[gcp.managedkafka.ClusterGcpConfigAccessConfigNetworkConfigArgs(subnet=path)]
                    )
                ),
                opts=o,
            )
            own = [f"{n}_{token[('gcp', g)]}" for n in names]
            gtopics = [
                gcp.managedkafka.Topic(
                    f"b-{g}-{t}",
                    topic_id=t,
                    cluster=cluster.cluster_id,
                    location=g,
                    partition_count=6,
                    replication_factor=3,
                    configs={"retention.ms": "604800000"},
                    opts=o,
                )
                for t in own
            ]
            connect = gcp.managedkafka.ConnectCluster(
                f"b-{g}-connect",
                connect_cluster_id=f"b-{g}",
                location=g,
                kafka_cluster=cluster.cluster_id.apply(lambda c, g=g: f"projects/{PROJECT}/locations/{g}/clusters/{c}"),
                capacity_config=gcp.managedkafka.ConnectClusterCapacityConfigArgs(
                    vcpu_count="3", memory_bytes=str(12 * 1024**3)
                ),
                gcp_config=gcp.managedkafka.ConnectClusterGcpConfigArgs(
                    access_config=gcp.managedkafka.ConnectClusterGcpConfigAccessConfigArgs(
                        network_configs=[
                            gcp.managedkafka.ConnectClusterGcpConfigAccessConfigNetworkConfigArgs(primary_subnet=path)
                        ]
                    )
                ),
                opts=o,
            )
            jaas = pulumi.Output.secret(
                pulumi.Output.format('ScramLoginModule required username="{0}" password="{1}";', g, passwords[g])
            )
            for role in ("source", "checkpoint"):
                gcp.managedkafka.Connector(
                    f"b-{g}-{role}",
                    connector_id=f"b-{g}-{role}",
                    connect_cluster=connect.connect_cluster_id,
                    location=g,
                    configs={
                        "topics": ",".join(own),
                        "source.cluster.bootstrap.servers": clusters[HUB].bootstrap_brokers_sasl_scram,
                        "target.cluster.bootstrap.servers": cluster.bootstrap_address,
                        "source.cluster.sasl.jaas.config": jaas,
                    },
                    opts=pulumi.ResourceOptions(provider=p, depends_on=[connect, *gtopics]),
                )
            # HA VPN: 4 tunnels between the hub's VPC and this region.
            ha = gcp.compute.HaVpnGateway(f"b-{g}-ha", region=g, network=net.id, opts=o)
            router = gcp.compute.Router(
                f"b-{g}-router",
                region=g,
                network=net.id,
                bgp=gcp.compute.RouterBgpArgs(
                    asn=65001,
                    advertise_mode="CUSTOM",
                    advertised_ip_ranges=[gcp.compute.RouterBgpAdvertisedIpRangeArgs(range=cidr[("gcp", g)])],
                ),
                opts=o,
            )
            cgws = [
                aws.ec2.CustomerGateway(
                    f"b-{g}-cgw{i}",
                    type="ipsec.1",
                    bgp_asn="65001",
                    ip_address=ha.vpn_interfaces.apply(lambda xs, i=i: xs[i].ip_address),
                    opts=hub_o,
                )
                for i in range(2)
            ]
            psk = [
                pulumi.Output.secret(
                    random.RandomPassword(f"b-{g}-psk{t}", length=40, special=False, numeric=False).result
                )
                for t in range(4)
            ]
            inside = [f"169.254.{j + 10}.{4 * t}/30" for t in range(4)]
            conns = [
                aws.ec2.VpnConnection(
                    f"b-{g}-conn{c}",
                    type="ipsec.1",
                    customer_gateway_id=cgws[c].id,
                    vpn_gateway_id=vgw.id,
                    static_routes_only=False,
                    tunnel1_inside_cidr=inside[2 * c],
                    tunnel2_inside_cidr=inside[2 * c + 1],
                    tunnel1_preshared_key=psk[2 * c],
                    tunnel2_preshared_key=psk[2 * c + 1],
                    opts=hub_o,
                )
                for c in range(2)
            ]
            outside = [
                conns[0].tunnel1_address,
                conns[0].tunnel2_address,
                conns[1].tunnel1_address,
                conns[1].tunnel2_address,
            ]
            ext = gcp.compute.ExternalVpnGateway(
                f"b-{g}-aws",
                redundancy_type="FOUR_IPS_REDUNDANCY",
                interfaces=[gcp.compute.ExternalVpnGatewayInterfaceArgs(id=t, ip_address=outside[t]) for t in range(4)],
                opts=o,
            )
            for t in range(4):
                tunnel = gcp.compute.VPNTunnel(
                    f"b-{g}-t{t}",
                    region=g,
                    vpn_gateway=ha.id,
                    vpn_gateway_interface=t // 2,
                    peer_external_gateway=ext.id,
                    peer_external_gateway_interface=t,
                    shared_secret=psk[t],
                    router=router.id,
                    ike_version=2,
                    opts=o,
                )
                iface = gcp.compute.RouterInterface(
                    f"b-{g}-t{t}",
                    region=g,
                    router=router.name,
                    ip_range=inside[t].replace(".0/30", ".2/30"),
                    vpn_tunnel=tunnel.name,
                    opts=o,
                )
                gcp.compute.RouterPeer(
                    f"b-{g}-t{t}",
                    region=g,
                    router=router.name,
                    interface=iface.name,
                    peer_ip_address=inside[t].split("/")[0],
                    peer_asn=64512,
                    opts=o,
                )

    return program
