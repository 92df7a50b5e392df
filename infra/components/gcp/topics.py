"""The planned topics of one Managed Kafka cluster, through the Managed Kafka API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from infra.components.base import Context, KafkaCluster, expect
from infra.components.gcp.managed_kafka import ManagedKafkaCluster
from infra.plan import Cluster, Topic


@dataclass(frozen=True)
class ManagedKafkaTopicsArgs:
    project: str
    location: str
    # The cluster's ID (not its path).
    cluster_id: pulumi.Input[str]
    # Kafka topic name -> planned topic.
    topics: Mapping[str, Topic]
    # Pulumi `protect` on every topic.
    protect: bool = True


class ManagedKafkaTopics(pulumi.ComponentResource):
    """`gcp.managedkafka.Topic` per planned topic: `pulumi up` never dials a broker.

    Every topic is `retain_on_delete`, like the MSK topics: a topic the plan
    no longer holds leaves Pulumi's state but stays in Kafka with its data.
    """

    TYPE = "multicloud-kafka:gcp:ManagedKafkaTopics"

    def __init__(self, name: str, args: ManagedKafkaTopicsArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True)
        self.topics: dict[str, gcp.managedkafka.Topic] = {
            topic.name: gcp.managedkafka.Topic(
                f"{name}-{topic.name}",
                topic_id=topic.name,
                cluster=args.cluster_id,
                location=args.location,
                project=args.project,
                partition_count=topic.settings.partitions,
                replication_factor=topic.settings.replication_factor,
                configs=topic.settings.kafka_config(),
                opts=keep,
            )
            for topic in args.topics.values()
        }
        self.register_outputs({"topics": {n: t.name for n, t in self.topics.items()}})


def realize_topics(
    ctx: Context, planned: Cluster, realized: KafkaCluster, topics: Mapping[str, Topic]
) -> ManagedKafkaTopics:
    cluster = expect(realized, ManagedKafkaCluster, f"topics of {planned.key}")
    return ManagedKafkaTopics(
        f"{planned.name}-topics",
        ManagedKafkaTopicsArgs(
            project=ctx.gcp_project,
            location=planned.region.name,
            cluster_id=cluster.cluster.cluster_id,
            topics=topics,
            protect=ctx.protect,
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(planned.region), depends_on=[cluster]),
    )
