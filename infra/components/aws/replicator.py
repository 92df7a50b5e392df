"""One mirror flow between two MSK clusters: an MSK Replicator and its role."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import kafka_acls, naming
from infra.components.aws.msk import MskCluster
from infra.components.aws.network import AwsNetwork
from infra.components.base import Context, Site, expect
from infra.plan import MirrorFlow

IAM_ROLE_NAME_MAX = 64
# The replicator's own topics, on both clusters: "Topic replication
# permissions" (MSK Replicator service execution role) names them.
INTERNAL_TOPICS = ["*__amazon_msk_replicator_*", "mskr-offset-syncs.*", "*.checkpoints.internal"]
# Topic-level actions, split by side: the replicator only reads the source
# and only writes the target.
READ_TOPIC = [
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:DescribeTopicDynamicConfiguration",
    "kafka-cluster:ReadData",
]
WRITE_TOPIC = [
    "kafka-cluster:AlterTopic",
    "kafka-cluster:AlterTopicDynamicConfiguration",
    "kafka-cluster:CreateTopic",
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:DescribeTopicDynamicConfiguration",
    "kafka-cluster:WriteData",
]


@dataclass(frozen=True)
class MskEndpoint:
    """An MSK cluster as the replicator reaches it: from inside its own VPC."""

    cluster_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class MskReplicationArgs:
    source: MskEndpoint
    target: MskEndpoint
    # Exactly these topics are copied, under the same names.
    topics: Sequence[str]
    # Prefixes of the consumer groups whose offsets are synced: those of the
    # services that consume the flow's topics on the target (kafka_acls.translated_groups).
    groups: Sequence[str]
    # The target's topic resources: replication starts once they exist, so
    # it writes into topics with the planned settings.
    target_topics: Sequence[pulumi.Resource] = ()
    # What lets the replicator into the source from another region (its
    # cluster policy); the replicator is created after it. Default: nothing.
    source_access: Sequence[pulumi.Resource] = ()
    # Translate the consumer groups' committed offsets onto the target, so a
    # consumer moving there resumes where it was. Default: yes.
    sync_group_offsets: bool = True


def _arns(cluster_arn: str, kind: str, names: Sequence[str]) -> list[str]:
    """arn:...:cluster/<name>/<uuid> -> arn:...:<kind>/<name>/<uuid>/<each name>."""
    base = cluster_arn.replace(":cluster/", f":{kind}/", 1)
    return [f"{base}/{n}" for n in names]


def group_patterns(prefixes: Sequence[str]) -> list[str]:
    """The replicator's consumer-group regexes: each prefix, literally, then anything."""
    return [f"{re.escape(p)}.*" for p in prefixes]


def execution_policy(
    source_arn: str, target_arn: str, topics: Sequence[str], groups: Sequence[str] = ()
) -> dict[str, Any]:
    """The replicator's permissions: these two clusters, these topics, these groups, nothing else.

    The actions are those of AWS's AWSMSKReplicatorExecutionRole, scoped to
    the flow: read on the source's topics, write on the target's, the
    replicator's own internal topics (Kafka's `__` convention) on both, and
    on both the consumer groups whose offsets it syncs (group ARNs ending in
    `<prefix>*`, "Authorization policy resources"), never every group.
    """
    clusters = [source_arn, target_arn]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Clusters",
            "Effect": "Allow",
            "Action": [
                "kafka-cluster:AlterCluster",
                "kafka-cluster:Connect",
                "kafka-cluster:DescribeCluster",
                "kafka-cluster:WriteDataIdempotently",
            ],
            "Resource": clusters,
        },
        {
            "Sid": "ReadSourceTopics",
            "Effect": "Allow",
            "Action": READ_TOPIC,
            "Resource": _arns(source_arn, "topic", topics),
        },
        {
            "Sid": "WriteTargetTopics",
            "Effect": "Allow",
            "Action": WRITE_TOPIC,
            "Resource": _arns(target_arn, "topic", topics),
        },
        {
            "Sid": "InternalTopics",
            "Effect": "Allow",
            "Action": sorted({*READ_TOPIC, *WRITE_TOPIC, "kafka-cluster:DeleteTopic"}),
            "Resource": [a for c in clusters for a in _arns(c, "topic", INTERNAL_TOPICS)],
        },
    ]
    if groups:
        statements.append(
            {
                "Sid": "ConsumerGroups",
                "Effect": "Allow",
                "Action": ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                "Resource": [a for c in clusters for a in _arns(c, "group", [f"{g}*" for g in groups])],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _vpc(e: MskEndpoint) -> aws.msk.ReplicatorKafkaClusterArgs:
    return aws.msk.ReplicatorKafkaClusterArgs(
        amazon_msk_cluster=aws.msk.ReplicatorKafkaClusterAmazonMskClusterArgs(msk_cluster_arn=e.cluster_arn),
        vpc_config=aws.msk.ReplicatorKafkaClusterVpcConfigArgs(
            subnet_ids=e.subnet_ids, security_groups_ids=[e.security_group_id]
        ),
    )


def role_name(name: str) -> str:
    """IAM allows 64 characters: long flow names keep a readable head and a stable hash."""
    return naming.bounded(name, IAM_ROLE_NAME_MAX)


class MskReplication(pulumi.ComponentResource):
    """An MSK Replicator copying `topics` with identical names, offsets synced.

    Register it with the target region's provider: the replicator runs there
    and reaches the source through network interfaces in the source's VPC.
    """

    TYPE = "multicloud-kafka:aws:MskReplication"

    def __init__(self, name: str, args: MskReplicationArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name(f"{name}-replicator"),
            description=f"MSK Replicator {name}",
            assume_role_policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "kafka.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            opts=child,
        )
        topics = sorted(args.topics)
        groups = sorted(args.groups)
        policy = aws.iam.RolePolicy(
            f"{name}-role",
            role=self.role.id,
            policy=pulumi.Output.all(args.source.cluster_arn, args.target.cluster_arn).apply(
                lambda arns: json.dumps(execution_policy(arns[0], arns[1], topics, groups))
            ),
            opts=child,
        )
        self.replicator = aws.msk.Replicator(
            name,
            replicator_name=name,
            description=f"Copies {len(topics)} topics with identical names",
            service_execution_role_arn=self.role.arn,
            kafka_clusters=[_vpc(args.source), _vpc(args.target)],
            replication_info_list=aws.msk.ReplicatorReplicationInfoListArgs(
                source_kafka_cluster_arn=args.source.cluster_arn,
                target_kafka_cluster_arn=args.target.cluster_arn,
                target_compression_type="LZ4",
                topic_replications=[
                    aws.msk.ReplicatorReplicationInfoListTopicReplicationArgs(
                        # Names are [A-Z0-9_]: each pattern matches exactly its topic.
                        topics_to_replicates=topics,
                        topic_name_configuration=aws.msk.ReplicatorReplicationInfoListTopicReplicationTopicNameConfigurationArgs(
                            type="IDENTICAL"
                        ),
                        starting_position=aws.msk.ReplicatorReplicationInfoListTopicReplicationStartingPositionArgs(
                            type="EARLIEST"
                        ),
                        # Pulumi owns the target topics' settings.
                        copy_topic_configurations=False,
                        copy_access_control_lists_for_topics=False,
                        detect_and_copy_new_topics=True,
                    )
                ],
                consumer_group_replications=[
                    aws.msk.ReplicatorReplicationInfoListConsumerGroupReplicationArgs(
                        consumer_groups_to_replicates=group_patterns(groups),
                        synchronise_consumer_group_offsets=args.sync_group_offsets,
                        detect_and_copy_new_consumer_groups=True,
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, *args.source_access, *args.target_topics]),
        )
        self.register_outputs({"replicatorArn": self.replicator.arn, "roleArn": self.role.arn})


def _endpoint(site: Site, what: str) -> MskEndpoint:
    cluster = expect(site.cluster, MskCluster, what)
    net = expect(site.network, AwsNetwork, what)
    return MskEndpoint(cluster.arn, net.subnet_ids, net.kafka_security_group().id)


def realize_replication(ctx: Context, flow: MirrorFlow, source: Site, target: Site) -> MskReplication:
    return MskReplication(
        ctx.plan.flow_name(flow),
        MskReplicationArgs(
            source=_endpoint(source, f"mirror flow {flow.key}"),
            target=_endpoint(target, f"mirror flow {flow.key}"),
            topics=flow.topics,
            groups=kafka_acls.translated_groups(ctx.plan, flow),
            target_topics=list(target.topics.topics.values()),
            sync_group_offsets=flow.sync_group_offsets,
            source_access=[policy]
            if (policy := expect(source.cluster, MskCluster, flow.key).replicator_policy)
            else [],
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(target.plan.region)),
    )
