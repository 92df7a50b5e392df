"""Which alarms watch a plan, where they notify, and the stack's dashboard: pure data.

Per MSK cluster (AWS/Kafka, the DEFAULT monitoring level every cluster has):
- ActiveControllerCount summed over the brokers != 1, OfflinePartitionsCount > 0
  (the cluster's dimension, "Cluster Name");
- per broker ("Cluster Name", "Broker ID", brokers numbered 1..N):
  UnderMinIsrPartitionCount > 0, KafkaDataLogsDiskUsed > diskPercent,
  CpuUser + CpuSystem > cpuPercent.
Per MSK Replicator (AWS/Kafka, "ReplicatorName"): ReplicationLatency,
MessageLag, ReplicatorFailure.
Per MSK Connect connector (AWS/KafkaConnect, "ConnectorName"):
ErroredTaskCount > 0 and RunningTaskCount < 1.

Alarms live in the region of what they watch (a CloudWatch alarm reads
metrics of its own region only), and notify that region's SNS topic.
Managed Kafka and Managed Kafka Connect get no alarm here yet: see
docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra import aws_rules, geo, mirrormaker, naming
from infra.alerts import Alarm, Comparison, Notification, Subject, Thresholds
from infra.geo import Region
from infra.kinds import MirrorMechanism
from infra.plan import Cluster, MirrorFlow, Plan

KAFKA = "AWS/Kafka"
KAFKA_CONNECT = "AWS/KafkaConnect"
MSK_BEST_PRACTICES = "https://docs.aws.amazon.com/msk/latest/developerguide/bestpractices.html"
REPLICATOR_METRICS = "https://docs.aws.amazon.com/msk/latest/developerguide/msk-replicator-metrics-ref.html"
CONNECT_METRICS = "https://docs.aws.amazon.com/msk/latest/developerguide/mkc-monitoring-overview.html"
# CloudWatch alarm names may be up to 255 characters.
ALARM_NAME_LIMIT = 255


def notification_key(region: Region) -> str:
    return f"sns:{region.key}"


def replicator_name(plan: Plan, flow: MirrorFlow) -> str:
    """The name `infra.components.aws.replicator` gives the flow's MSK Replicator."""
    return plan.flow_name(flow)


def broker_count(plan: Plan, cluster: Cluster) -> int:
    """Brokers of an MSK cluster: its region's AZs times `msk.brokersPerAz`."""
    return aws_rules.az_count(cluster.region.name) * plan.config.msk.brokers_per_az


class _Builder:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.t: Thresholds = plan.config.alerts.thresholds
        self.alarms: dict[str, Alarm] = {}

    def add(
        self,
        subject: Subject,
        owner: str,
        region: Region,
        what: str,
        namespace: str,
        metrics: tuple[str, ...],
        dimensions: Mapping[str, str],
        statistic: str,
        comparison: Comparison,
        threshold: float,
        source: str,
    ) -> None:
        key = f"{owner}:{what}"
        name = naming.bounded(
            f"{self.plan.config.name_prefix}-{owner.replace('/', '-')}-{what}".replace(">", ""), ALARM_NAME_LIMIT
        )
        self.alarms[key] = Alarm(
            key=key,
            subject=subject,
            owner=owner,
            region=region,
            name=name,
            namespace=namespace,
            metrics=metrics,
            dimensions=dict(dimensions),
            statistic=statistic,
            comparison=comparison,
            threshold=threshold,
            period=self.t.period_seconds,
            evaluation_periods=self.t.evaluation_periods,
            notify=notification_key(region),
            source=source,
        )

    def cluster(self, cluster: Cluster) -> None:
        on = {"Cluster Name": cluster.name}
        r = cluster.region
        self.add(
            Subject.CLUSTER,
            cluster.key,
            r,
            "active-controllers",
            KAFKA,
            ("ActiveControllerCount",),
            on,
            "Sum",
            Comparison.NOT_EQUAL,
            1,
            MSK_BEST_PRACTICES,
        )
        self.add(
            Subject.CLUSTER,
            cluster.key,
            r,
            "offline-partitions",
            KAFKA,
            ("OfflinePartitionsCount",),
            on,
            "Maximum",
            Comparison.GREATER,
            0,
            MSK_BEST_PRACTICES,
        )
        for broker in range(1, broker_count(self.plan, cluster) + 1):
            b = {**on, "Broker ID": str(broker)}
            self.add(
                Subject.CLUSTER,
                cluster.key,
                r,
                f"broker-{broker}-under-min-isr",
                KAFKA,
                ("UnderMinIsrPartitionCount",),
                b,
                "Maximum",
                Comparison.GREATER,
                0,
                MSK_BEST_PRACTICES,
            )
            self.add(
                Subject.CLUSTER,
                cluster.key,
                r,
                f"broker-{broker}-disk",
                KAFKA,
                ("KafkaDataLogsDiskUsed",),
                b,
                "Maximum",
                Comparison.GREATER,
                self.t.disk_percent,
                MSK_BEST_PRACTICES,
            )
            self.add(
                Subject.CLUSTER,
                cluster.key,
                r,
                f"broker-{broker}-cpu",
                KAFKA,
                ("CpuUser", "CpuSystem"),
                b,
                "Average",
                Comparison.GREATER,
                self.t.cpu_percent,
                MSK_BEST_PRACTICES,
            )

    def replicator(self, flow: MirrorFlow) -> None:
        on = {"ReplicatorName": replicator_name(self.plan, flow)}
        # The replicator runs, and reports, in the target's region.
        r = self.plan.clusters[flow.target].region
        self.add(
            Subject.REPLICATOR,
            flow.key,
            r,
            "replication-latency",
            KAFKA,
            ("ReplicationLatency",),
            on,
            "Maximum",
            Comparison.GREATER,
            self.t.replication_latency_ms,
            REPLICATOR_METRICS,
        )
        self.add(
            Subject.REPLICATOR,
            flow.key,
            r,
            "message-lag",
            KAFKA,
            ("MessageLag",),
            on,
            "Maximum",
            Comparison.GREATER,
            self.t.message_lag,
            REPLICATOR_METRICS,
        )
        self.add(
            Subject.REPLICATOR,
            flow.key,
            r,
            "failures",
            KAFKA,
            ("ReplicatorFailure",),
            on,
            "Maximum",
            Comparison.GREATER,
            0,
            REPLICATOR_METRICS,
        )

    def connectors(self, flow: MirrorFlow) -> None:
        r = self.plan.clusters[flow.target].region
        for role, connector in mirrormaker.connector_names(flow).items():
            on = {"ConnectorName": connector}
            self.add(
                Subject.CONNECTOR,
                flow.key,
                r,
                f"{role}-errored-tasks",
                KAFKA_CONNECT,
                ("ErroredTaskCount",),
                on,
                "Maximum",
                Comparison.GREATER,
                0,
                CONNECT_METRICS,
            )
            self.add(
                Subject.CONNECTOR,
                flow.key,
                r,
                f"{role}-running-tasks",
                KAFKA_CONNECT,
                ("RunningTaskCount",),
                on,
                "Minimum",
                Comparison.LESS,
                1,
                CONNECT_METRICS,
            )


def plan_alarms(plan: Plan) -> tuple[dict[str, Alarm], dict[str, Notification]]:
    """Every alarm of the plan by key, and the notification targets they use."""
    b = _Builder(plan)
    for cluster in plan.clusters.values():
        if cluster.region.cloud == geo.AWS:
            b.cluster(cluster)
    for flow in plan.mirrors.values():
        if flow.mechanism == MirrorMechanism.MSK_REPLICATOR:
            b.replicator(flow)
        elif flow.mechanism == MirrorMechanism.MM2_MSK_CONNECT:
            b.connectors(flow)
    regions = {a.region.key: a.region for a in b.alarms.values()}
    emails = plan.config.alerts.emails
    notifications = {
        notification_key(r): Notification(
            notification_key(r), r, f"{plan.config.name_prefix}-{naming.region_slug(r)}-alarms", emails
        )
        for r in sorted(regions.values(), key=lambda r: r.key)
    }
    return b.alarms, notifications


def dashboard_region(plan: Plan) -> Region | None:
    """Where the stack's CloudWatch dashboard lives: the hub if on AWS, else the first AWS region."""
    if plan.hub.region.cloud == geo.AWS:
        return plan.hub.region
    return next((r for r in plan.config.regions.values() if r.cloud == geo.AWS), None)


def dashboard_name(plan: Plan) -> str:
    return f"{plan.config.name_prefix}-kafka"


def _widget(title: str, region: Region, metrics: list[list[Any]], y: int, x: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region.name,
            "view": "timeSeries",
            "stat": "Maximum",
            "period": 60,
            "metrics": metrics,
        },
    }


def dashboard_body(plan: Plan) -> dict[str, Any]:
    """The CloudWatch dashboard: a widget per MSK cluster and per mirror flow that reports to CloudWatch.

    Each widget names its own region, so one dashboard shows every AWS region of the stack.
    """
    widgets: list[dict[str, Any]] = []
    for cluster in plan.clusters.values():
        if cluster.region.cloud != geo.AWS:
            continue
        n = broker_count(plan, cluster)
        metrics: list[list[Any]] = [
            [KAFKA, "ActiveControllerCount", "Cluster Name", cluster.name, {"stat": "Sum"}],
            [KAFKA, "OfflinePartitionsCount", "Cluster Name", cluster.name],
        ]
        for broker in range(1, n + 1):
            for metric in ("CpuUser", "KafkaDataLogsDiskUsed", "UnderMinIsrPartitionCount"):
                metrics.append([KAFKA, metric, "Cluster Name", cluster.name, "Broker ID", str(broker)])
        widgets.append(_widget(f"cluster {cluster.key}", cluster.region, metrics, 0, 0))
    for flow in plan.mirrors.values():
        target = plan.clusters[flow.target].region
        if flow.mechanism == MirrorMechanism.MSK_REPLICATOR:
            name = replicator_name(plan, flow)
            metrics = [
                [KAFKA, m, "ReplicatorName", name] for m in ("ReplicationLatency", "MessageLag", "ReplicatorFailure")
            ]
        elif flow.mechanism == MirrorMechanism.MM2_MSK_CONNECT:
            metrics = [
                [KAFKA_CONNECT, m, "ConnectorName", c]
                for c in mirrormaker.connector_names(flow).values()
                for m in ("RunningTaskCount", "ErroredTaskCount")
            ]
        else:
            continue
        widgets.append(_widget(f"mirror {flow.key}", target, metrics, 0, 0))
    for i, w in enumerate(widgets):
        w["x"], w["y"] = (i % 2) * 12, (i // 2) * 6
    return {"widgets": widgets}
