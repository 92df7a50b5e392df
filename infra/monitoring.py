"""Which alarms watch a plan, where they notify, and the stack's dashboards: pure data.

AWS (CloudWatch). Per MSK cluster (AWS/Kafka, the DEFAULT monitoring level every cluster has):
- ActiveControllerCount summed over the brokers != 1, OfflinePartitionsCount > 0
  (the cluster's dimension, "Cluster Name");
- per broker ("Cluster Name", "Broker ID", brokers numbered 1..N):
  UnderMinIsrPartitionCount > 0, KafkaDataLogsDiskUsed > diskPercent,
  CpuUser + CpuSystem > cpuPercent.
Per MSK Replicator (AWS/Kafka, "ReplicatorName"): ReplicationLatency,
MessageLag, ReplicatorFailure.
Per MSK Connect connector (AWS/KafkaConnect, "ConnectorName"):
ErroredTaskCount > 0 and RunningTaskCount < 1. MSK Connect sends no
MirrorMaker 2 lag metric to CloudWatch (its metric table, CONNECT_METRICS,
lists worker, task, rebalance and record-rate metrics only); the dashboard
shows SourceRecordPollRate and SourceRecordWriteRate, which fall to zero when
a flow stalls.

GCP (Cloud Monitoring). Per Managed Kafka cluster (monitored resource
managedkafka.googleapis.com/Cluster, label cluster_id; metric types from
MK_MONITOR_CLUSTER, recommended ranges from MK_RELIABILITY):
- cpu/core_usage_time (rate, vCPU) / cpu/limit > gcpCpuPercent (80%);
- offline_partitions > 0;
- partitions per broker > gcpPartitionsPerBroker (4000).
Per MirrorMaker 2 connector on Managed Kafka Connect (the Connect cluster's
logs, monitored resource managedkafka.googleapis.com/ConnectCluster, label
cluster_id, MK_RESOURCES): a log entry of Kafka Connect's WorkerTask saying a
task of the connector was killed (TASK_KILLED, the text Apache Kafka's
connect-runtime logs). Per flow whose source is Managed Kafka too: mirror lag
= the flow's topics' last_offset on the source minus on the target (PromQL,
metric names mapped as MK_PROMQL_MAPPING says) > messageLag. A flow from MSK
into GCP has no lag alarm: no one metric store sees both ends.
Storage: Managed Kafka manages broker storage itself (tiered; MK_OVERVIEW),
and the documents list no broker disk metric type: the dashboard shows
memory and partitions, no disk alarm is made. See docs/operations.md.

Alarms live in the region of what they watch and notify that region's SNS
topic (AWS) or the project's e-mail channels (GCP).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from infra import aws_rules, geo, mirrormaker, naming
from infra.alerts import Alarm, Comparison, Formula, Notification, Subject, Thresholds
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

MANAGED_KAFKA = "managedkafka.googleapis.com"
MK_CLUSTER = f"{MANAGED_KAFKA}/Cluster"
MK_CONNECT_CLUSTER = f"{MANAGED_KAFKA}/ConnectCluster"
LOGGING = "logging.googleapis.com"
MK_MONITOR_CLUSTER = "https://cloud.google.com/managed-service-for-apache-kafka/docs/monitor-cluster"
MK_RELIABILITY = "https://cloud.google.com/managed-service-for-apache-kafka/docs/monitor-reliability"
MK_OVERVIEW = "https://cloud.google.com/managed-service-for-apache-kafka/docs/overview"
MK_RESOURCES = "https://cloud.google.com/logging/docs/api/v2/resource-list"
MK_PROMQL_MAPPING = "https://cloud.google.com/monitoring/promql/promql-mapping"
LOGGING_QUERY = "https://cloud.google.com/logging/docs/view/logging-query-language"
# What Kafka Connect's WorkerTask logs (ERROR) when a task fails for good;
# the task's name, <connector>-<n>, starts the line (connect-runtime 4.x).
TASK_KILLED = "Task threw an uncaught and unrecoverable exception"
# The ID of a Managed Kafka Connect cluster, like other GCP names: 63 characters at most.
GCP_NAME_LIMIT = 63
GCP_CHANNELS = "channels:gcp"


def notification_key(region: Region) -> str:
    """Where an alarm in `region` notifies: its region's SNS topic, or the GCP project's channels."""
    return GCP_CHANNELS if region.cloud == geo.GCP else f"sns:{region.key}"


def metric_type(path: str) -> str:
    return f"{MANAGED_KAFKA}/{path}"


def promql_name(metric: str) -> str:
    """managedkafka.googleapis.com/last_offset -> managedkafka_googleapis_com:last_offset (MK_PROMQL_MAPPING)."""
    domain, _, path = metric.partition("/")
    return f"{re.sub(r'[^a-zA-Z0-9_]', '_', domain)}:{re.sub(r'[^a-zA-Z0-9_]', '_', path)}"


def connect_cluster_id(plan: Plan, flow: MirrorFlow) -> str:
    """The ID `infra.components.gcp.connect` gives the flow's Managed Kafka Connect cluster."""
    return naming.bounded(plan.flow_name(flow), GCP_NAME_LIMIT)


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
        formula: Formula = Formula.SUM,
        resource_type: str = "",
        query: str = "",
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
            formula=formula,
            resource_type=resource_type,
            query=query,
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

    def gcp_cluster(self, cluster: Cluster) -> None:
        on = {"cluster_id": cluster.name}
        r = cluster.region
        self.add(
            Subject.CLUSTER,
            cluster.key,
            r,
            "cpu",
            MANAGED_KAFKA,
            (metric_type("cpu/core_usage_time"), metric_type("cpu/limit")),
            on,
            "ALIGN_RATE",
            Comparison.GREATER,
            self.t.gcp_cpu_percent / 100,
            MK_RELIABILITY,
            Formula.RATIO,
            MK_CLUSTER,
        )
        self.add(
            Subject.CLUSTER,
            cluster.key,
            r,
            "offline-partitions",
            MANAGED_KAFKA,
            (metric_type("offline_partitions"),),
            on,
            "ALIGN_MAX",
            Comparison.GREATER,
            0,
            MK_MONITOR_CLUSTER,
            resource_type=MK_CLUSTER,
        )
        self.add(
            Subject.CLUSTER,
            cluster.key,
            r,
            "partitions-per-broker",
            MANAGED_KAFKA,
            (metric_type("partitions"),),
            on,
            "ALIGN_MAX",
            Comparison.GREATER,
            self.t.gcp_partitions_per_broker,
            MK_RELIABILITY,
            resource_type=MK_CLUSTER,
        )

    def gcp_connectors(self, flow: MirrorFlow) -> None:
        r = self.plan.clusters[flow.target].region
        connect = connect_cluster_id(self.plan, flow)
        for role, connector in mirrormaker.connector_names(flow).items():
            self.add(
                Subject.CONNECTOR,
                flow.key,
                r,
                f"{role}-failed-tasks",
                LOGGING,
                (f"log: {connector} task killed",),
                {"cluster_id": connect},
                "count",
                Comparison.GREATER,
                0,
                LOGGING_QUERY,
                Formula.LOG_MATCH,
                MK_CONNECT_CLUSTER,
                f'resource.type="{MK_CONNECT_CLUSTER}" AND resource.labels.cluster_id="{connect}" '
                f'AND "{TASK_KILLED}" AND "{connector}-"',
            )
        if self.plan.clusters[flow.source].region.cloud != geo.GCP:
            return
        source, target = self.plan.clusters[flow.source].name, self.plan.clusters[flow.target].name
        self.add(
            Subject.CONNECTOR,
            flow.key,
            r,
            "mirror-lag",
            MANAGED_KAFKA,
            ("last_offset on source - last_offset on target",),
            {"cluster_id": target},
            "sum",
            Comparison.GREATER,
            self.t.message_lag,
            MK_MONITOR_CLUSTER,
            Formula.PROMQL,
            query=mirror_lag_query(source, target, flow.topics, self.t.message_lag),
        )


def _offsets(cluster_id: str, topics: tuple[str, ...]) -> str:
    # A topic name's '.' is a regex wildcard; escaped once for RE2, once for the PromQL string.
    names = "|".join(t.replace(".", "\\\\.") for t in topics)
    last = promql_name(metric_type("last_offset"))
    return f'sum(max by (topic_id, partition_index) ({last}{{cluster_id="{cluster_id}",topic_id=~"{names}"}}))'


def mirror_lag_query(source: str, target: str, topics: tuple[str, ...], threshold: int) -> str:
    """Messages of `topics` on the `source` cluster not yet on `target`: the two clusters' end offsets apart.

    Identity replication keeps names and, with no transactions on the
    source, offsets: each partition's last offset on the target trails the
    source's by what is not yet copied. A replica may report its own series,
    so each partition counts once (its maximum).
    """
    return f"{_offsets(source, topics)} - {_offsets(target, topics)} > {threshold}"


def plan_alarms(plan: Plan) -> tuple[dict[str, Alarm], dict[str, Notification]]:
    """Every alarm of the plan by key, and the notification targets they use."""
    b = _Builder(plan)
    for cluster in plan.clusters.values():
        if cluster.region.cloud == geo.AWS:
            b.cluster(cluster)
        elif cluster.region.cloud == geo.GCP:
            b.gcp_cluster(cluster)
    for flow in plan.mirrors.values():
        if flow.mechanism == MirrorMechanism.MSK_REPLICATOR:
            b.replicator(flow)
        elif flow.mechanism == MirrorMechanism.MM2_MSK_CONNECT:
            b.connectors(flow)
        elif flow.mechanism == MirrorMechanism.MM2_GCP_CONNECT:
            b.gcp_connectors(flow)
    regions = {a.region.key: a.region for a in b.alarms.values() if a.cloud == geo.AWS}
    prefix, emails = plan.config.name_prefix, plan.config.alerts.emails
    notifications = {
        notification_key(r): Notification(notification_key(r), r, f"{prefix}-{naming.region_slug(r)}-alarms", emails)
        for r in sorted(regions.values(), key=lambda r: r.key)
    }
    home = gcp_home(plan)
    if home is not None and any(a.cloud == geo.GCP for a in b.alarms.values()):
        notifications[GCP_CHANNELS] = Notification(GCP_CHANNELS, home, f"{prefix}-gcp-alarms", emails)
    return b.alarms, notifications


def gcp_home(plan: Plan) -> Region | None:
    """Where the program's GCP provider for project-wide monitoring is: the hub if on GCP, else the first GCP region."""
    if plan.hub.region.cloud == geo.GCP:
        return plan.hub.region
    return next((r for r in plan.config.regions.values() if r.cloud == geo.GCP), None)


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
                for m in ("RunningTaskCount", "ErroredTaskCount", "SourceRecordPollRate", "SourceRecordWriteRate")
            ]
        else:
            continue
        widgets.append(_widget(f"mirror {flow.key}", target, metrics, 0, 0))
    for i, w in enumerate(widgets):
        w["x"], w["y"] = (i % 2) * 12, (i // 2) * 6
    return {"widgets": widgets}


def _series(title: str, metric: str, cluster_id: str, aligner: str, resource_type: str = MK_CLUSTER) -> dict[str, Any]:
    """One line of a Cloud Monitoring chart: `metric` of one Managed Kafka cluster, aligned per minute."""
    return {
        "legendTemplate": title,
        "plotType": "LINE",
        "timeSeriesQuery": {
            "timeSeriesFilter": {
                "filter": f'metric.type="{metric}" AND resource.type="{resource_type}" '
                f'AND resource.labels.cluster_id="{cluster_id}"',
                "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": aligner},
            }
        },
    }


def gcp_dashboard_body(plan: Plan) -> dict[str, Any]:
    """The Cloud Monitoring dashboard: a chart per Managed Kafka cluster and per flow into GCP.

    A cluster's chart: vCPU used and configured, RAM used and configured,
    partitions per broker, offline partitions. A flow's chart: the end
    offsets of its topics on the target (and on the source, when it is
    Managed Kafka too); the gap between the two lines is the mirror lag.
    """
    widgets: list[dict[str, Any]] = []
    for cluster in plan.clusters.values():
        if cluster.region.cloud != geo.GCP:
            continue
        name = cluster.name
        widgets.append(
            {
                "title": f"cluster {cluster.key}",
                "xyChart": {
                    "dataSets": [
                        _series("vCPU used", metric_type("cpu/core_usage_time"), name, "ALIGN_RATE"),
                        _series("vCPU", metric_type("cpu/limit"), name, "ALIGN_MEAN"),
                        _series("RAM used", metric_type("memory/usage"), name, "ALIGN_MEAN"),
                        _series("RAM", metric_type("memory/limit"), name, "ALIGN_MEAN"),
                        _series("partitions", metric_type("partitions"), name, "ALIGN_MAX"),
                        _series("offline partitions", metric_type("offline_partitions"), name, "ALIGN_MAX"),
                    ]
                },
            }
        )
    for flow in plan.mirrors.values():
        if flow.mechanism != MirrorMechanism.MM2_GCP_CONNECT:
            continue
        ends = [flow.target] + ([flow.source] if plan.clusters[flow.source].region.cloud == geo.GCP else [])
        widgets.append(
            {
                "title": f"mirror {flow.key}",
                "xyChart": {
                    "dataSets": [
                        {
                            "legendTemplate": f"last offsets on {end}",
                            "plotType": "LINE",
                            "timeSeriesQuery": {"prometheusQuery": _offsets(plan.clusters[end].name, flow.topics)},
                        }
                        for end in ends
                    ]
                },
            }
        )
    return {"displayName": dashboard_name(plan), "gridLayout": {"columns": "2", "widgets": widgets}}
