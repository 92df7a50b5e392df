"""The planned topics of one MSK cluster, through MSK's control-plane API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.aws.msk import MskCluster
from infra.components.base import Context, KafkaCluster, expect
from infra.plan import Cluster, Topic


@dataclass(frozen=True)
class MskTopicsArgs:
    cluster_arn: pulumi.Input[str]
    # Kafka topic name -> planned topic.
    topics: Mapping[str, Topic]
    # Pulumi `protect` on every topic.
    protect: bool = True


class MskTopics(pulumi.ComponentResource):
    """`aws.msk.Topic` per planned topic: `pulumi up` never dials a broker.

    Every topic is `retain_on_delete`: a topic the plan no longer holds (say,
    after an architecture switch) leaves Pulumi's state but stays in Kafka
    with its data. With `protect` the switch stops instead, naming the topics.
    """

    TYPE = "multicloud-kafka:aws:MskTopics"

    def __init__(self, name: str, args: MskTopicsArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True)
        self.topics: dict[str, aws.msk.Topic] = {
            topic.name: aws.msk.Topic(
                f"{name}-{topic.name}",
                name=topic.name,
                cluster_arn=args.cluster_arn,
                partition_count=topic.settings.partitions,
                replication_factor=topic.settings.replication_factor,
                configs=json.dumps(topic.settings.kafka_config(), sort_keys=True),
                opts=keep,
            )
            for topic in args.topics.values()
        }
        self.register_outputs({"topics": {n: t.arn for n, t in self.topics.items()}})


def realize_topics(ctx: Context, planned: Cluster, realized: KafkaCluster, topics: Mapping[str, Topic]) -> MskTopics:
    cluster = expect(realized, MskCluster, f"topics of {planned.key}")
    return MskTopics(
        f"{planned.name}-topics",
        MskTopicsArgs(cluster_arn=cluster.arn, topics=topics, protect=ctx.protect),
        pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(planned.region), depends_on=[cluster]),
    )
