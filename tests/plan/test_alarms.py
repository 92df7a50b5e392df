"""The `alerts` key and the alarms the plan holds: one set per MSK cluster, replicator and connector."""

from __future__ import annotations

import pytest

from infra import aws_rules, geo, mirrormaker, monitoring
from infra.alerts import Comparison, Formula, Subject, Thresholds
from infra.kinds import Architecture, MirrorMechanism
from infra.render import plan_text
from infra.validation import ConfigError
from tests.support.stacks import AWS_HUB, GCP_HUB, config_of, make_plan, raw_config

STACKS = {
    "aws": {"regions": None, "hub": None},
    "aws-hub-gcp-spokes": {"regions": AWS_HUB, "hub": "aws/us-east-1"},
    "gcp-hub": {"regions": GCP_HUB, "hub": "gcp/europe-west1"},
}


def _plan(arch: str, stack: str, **keys):
    where = {k: v for k, v in STACKS[stack].items() if v is not None}
    return make_plan(arch, **where, **keys)


def _problems(alerts) -> list[str]:
    with pytest.raises(ConfigError) as e:
        config_of(raw_config(alerts=alerts))
    return [str(p) for p in e.value.problems]


def test_defaults_are_the_msk_best_practice_thresholds():
    """Amazon MSK best practices (https://docs.aws.amazon.com/msk/latest/developerguide/bestpractices.html):
    keep CpuUser + CpuSystem under 60% so a broker can absorb a peer's load, and
    alarm on KafkaDataLogsDiskUsed at 85%; ActiveControllerCount must be exactly
    one per cluster; OfflinePartitionsCount and UnderMinIsrPartitionCount must be 0.
    """
    t = Thresholds()
    assert (t.cpu_percent, t.disk_percent) == (60, 85)
    plan = make_plan("regional-clusters")
    alarms = {a.key.split(":", 1)[1]: a for a in plan.alarms.values() if a.owner == "aws/us-east-1"}
    assert alarms["active-controllers"].comparison == Comparison.NOT_EQUAL
    assert alarms["active-controllers"].threshold == 1
    assert alarms["offline-partitions"].threshold == 0
    assert alarms["broker-1-under-min-isr"].threshold == 0
    assert alarms["broker-1-disk"].threshold == 85
    assert alarms["broker-1-cpu"].metrics == ("CpuUser", "CpuSystem")
    assert alarms["broker-1-cpu"].threshold == 60


def test_thresholds_are_overridable_in_config():
    plan = make_plan(
        "regional-clusters",
        alerts={
            "thresholds": {
                "cpuPercent": 70,
                "diskPercent": 80,
                "replicationLatencyMs": 5000,
                "messageLag": 10,
                "periodSeconds": 300,
                "evaluationPeriods": 2,
            }
        },
    )
    by_metric = {a.metric: a for a in plan.alarms.values()}
    assert by_metric["CpuUser + CpuSystem"].threshold == 70
    assert by_metric["KafkaDataLogsDiskUsed"].threshold == 80
    assert by_metric["ReplicationLatency"].threshold == 5000
    assert by_metric["MessageLag"].threshold == 10
    assert {(a.period, a.evaluation_periods) for a in plan.alarms.values()} == {(300, 2)}


def test_bad_alert_settings_name_the_key_the_value_and_the_fix():
    problems = _problems(
        {
            "emails": ["oncall.example.com", "a@b.co", "a@b.co"],
            "pager": 1,
            "thresholds": {"cpuPercent": 150, "diskPct": 80, "periodSeconds": 90},
        }
    )
    text = "\n".join(problems)
    assert "multicloud-kafka:alerts.emails[0] = 'oncall.example.com': is not an e-mail address" in text
    assert "multicloud-kafka:alerts.emails[2] = 'a@b.co': is listed twice" in text
    assert "multicloud-kafka:alerts.pager = 1: is not an alerts setting" in text
    assert "multicloud-kafka:alerts.thresholds.cpuPercent = 150: must be from 1 to 100" in text
    assert "multicloud-kafka:alerts.thresholds.diskPct = 80: is not a setting of alert thresholds" in text
    assert "multicloud-kafka:alerts.thresholds.periodSeconds = 90: CloudWatch alarm periods" in text
    assert _problems({"emails": "oncall@example.com"}) == [
        "multicloud-kafka:alerts.emails = 'oncall@example.com': must be a list of e-mail addresses, "
        "for example [oncall@example.com]"
    ]


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("arch", list(Architecture))
def test_every_msk_cluster_has_its_alarms_per_broker(arch, stack):
    """MSK metrics (https://docs.aws.amazon.com/msk/latest/developerguide/metrics-details.html):
    ActiveControllerCount and OfflinePartitionsCount have the "Cluster Name"
    dimension; UnderMinIsrPartitionCount, KafkaDataLogsDiskUsed, CpuUser and
    CpuSystem are per broker ("Cluster Name", "Broker ID"), brokers numbered from 1.
    """
    plan = _plan(arch, stack)
    for cluster in plan.clusters.values():
        mine = [a for a in plan.alarms.values() if a.owner == cluster.key]
        if cluster.region.cloud != geo.AWS:
            assert {a.key.split(":", 1)[1] for a in mine} == {"cpu", "offline-partitions", "partitions-per-broker"}
            continue
        brokers = aws_rules.az_count(cluster.region.name) * plan.config.msk.brokers_per_az
        assert len(mine) == 2 + 3 * brokers
        assert all(a.subject == Subject.CLUSTER and a.namespace == "AWS/Kafka" for a in mine)
        assert all(a.dimensions["Cluster Name"] == cluster.name and a.region == cluster.region for a in mine)
        assert {a.dimensions.get("Broker ID") for a in mine} == {None, *map(str, range(1, brokers + 1))}


@pytest.mark.parametrize("stack", list(STACKS))
def test_every_replicator_and_connector_has_its_alarms_in_the_target_region(stack):
    """MSK Replicator reports ReplicationLatency, MessageLag and ReplicatorFailure
    in AWS/Kafka under ReplicatorName, in the target cluster's region
    (https://docs.aws.amazon.com/msk/latest/developerguide/msk-replicator-monitor.html).
    MSK Connect reports ErroredTaskCount and RunningTaskCount in AWS/KafkaConnect
    under ConnectorName (https://docs.aws.amazon.com/msk/latest/developerguide/mkc-monitoring-overview.html).
    """
    plan = _plan("regional-clusters", stack)
    seen = 0
    for flow in plan.mirrors.values():
        mine = {a.key.split(":", 1)[1]: a for a in plan.alarms.values() if a.owner == flow.key}
        target = plan.config.regions[flow.target]
        assert all(a.region == target for a in mine.values())
        if flow.mechanism == MirrorMechanism.MSK_REPLICATOR:
            name = monitoring.replicator_name(plan, flow)
            assert set(mine) == {"replication-latency", "message-lag", "failures"}
            assert {a.dimensions["ReplicatorName"] for a in mine.values()} == {name}
            seen += 1
        elif flow.mechanism == MirrorMechanism.MM2_MSK_CONNECT:
            connectors = mirrormaker.connector_names(flow)
            assert set(mine) == {f"{role}-{what}" for role in connectors for what in ("errored-tasks", "running-tasks")}
            assert {a.dimensions["ConnectorName"] for a in mine.values()} == set(connectors.values())
            seen += 1
        else:
            assert flow.mechanism == MirrorMechanism.MM2_GCP_CONNECT
            assert {f"{role}-failed-tasks" for role in mirrormaker.connector_names(flow)} <= set(mine)
    assert seen or stack == "aws-hub-gcp-spokes"


@pytest.mark.parametrize("stack", list(STACKS))
def test_every_alarm_notifies_a_topic_in_its_own_region_with_the_configured_subscribers(stack):
    """A CloudWatch alarm is evaluated in its metric's region; its SNS topic is kept in that
    same region (one topic per AWS region with alarms), so no action crosses regions."""
    plan = _plan("regional-clusters", stack, alerts={"emails": ["oncall@example.com", "kafka@example.com"]})
    assert plan.alarms
    for a in plan.alarms.values():
        n = plan.notifications[a.notify]
        assert n.region == a.region or a.cloud == geo.GCP
        assert n.emails == ("oncall@example.com", "kafka@example.com")
    aws = {a.region.key for a in plan.alarms.values() if a.cloud == geo.AWS}
    assert {n.region.key for n in plan.notifications.values() if n.region.cloud == geo.AWS} == aws


def test_alarm_names_are_unique_and_within_cloudwatch_limits():
    plan = _plan("regional-clusters", "gcp-hub")
    names = [a.name for a in plan.alarms.values()]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 255 for n in names)


def test_the_dashboard_has_a_widget_per_msk_cluster_and_per_cloudwatch_mirror_flow():
    plan = _plan("regional-clusters", "gcp-hub")
    titles = [w["properties"]["title"] for w in monitoring.dashboard_body(plan)["widgets"]]
    clusters = [f"cluster {c.key}" for c in plan.clusters.values() if c.region.cloud == geo.AWS]
    flows = [
        f"mirror {f.key}"
        for f in plan.mirrors.values()
        if f.mechanism in (MirrorMechanism.MSK_REPLICATOR, MirrorMechanism.MM2_MSK_CONNECT)
    ]
    assert sorted(titles) == sorted(clusters + flows)
    assert monitoring.dashboard_region(plan) == plan.config.regions["aws/us-east-1"]


def test_plan_text_lists_every_alarm_with_its_threshold():
    plan = make_plan("regional-clusters", alerts={"emails": ["oncall@example.com"]})
    text = plan_text(plan)
    section = text[text.index("Alarms (multicloud-kafka:alerts.thresholds)") : text.index("Alarm notifications")]
    rows = section.strip().splitlines()[3:]
    assert len(rows) == len(plan.alarms)
    assert any("CpuUser + CpuSystem" in r and "Average > 60" in r for r in rows)
    assert "oncall@example.com" in text


# --- GCP: Cloud Monitoring ------------------------------------------------------------


def test_gcp_defaults_are_the_managed_kafka_reliability_ranges():
    """Managed Service for Apache Kafka, "Monitor Kafka clusters for reliability"
    (https://cloud.google.com/managed-service-for-apache-kafka/docs/monitor-reliability):
    keep CPU utilization under 80% on all brokers, and fewer than 4000
    partitions per broker. The metric types are those of "Monitor a cluster"
    (https://cloud.google.com/managed-service-for-apache-kafka/docs/monitor-cluster):
    cpu/core_usage_time (cumulative vCPU) over cpu/limit, offline_partitions,
    partitions (broken down by broker), on the monitored resource
    managedkafka.googleapis.com/Cluster, label cluster_id
    (https://cloud.google.com/logging/docs/api/v2/resource-list).
    """
    t = Thresholds()
    assert (t.gcp_cpu_percent, t.gcp_partitions_per_broker) == (80, 4000)
    plan = _plan("regional-clusters", "gcp-hub")
    hub = plan.clusters["gcp/europe-west1"]
    alarms = {a.key.split(":", 1)[1]: a for a in plan.alarms.values() if a.owner == hub.key}
    cpu = alarms["cpu"]
    assert cpu.formula == Formula.RATIO and cpu.statistic == "ALIGN_RATE"
    assert cpu.metrics == ("managedkafka.googleapis.com/cpu/core_usage_time", "managedkafka.googleapis.com/cpu/limit")
    assert cpu.metric == "cpu/core_usage_time / cpu/limit" and cpu.threshold == 0.8
    assert alarms["offline-partitions"].metrics == ("managedkafka.googleapis.com/offline_partitions",)
    assert alarms["offline-partitions"].threshold == 0
    assert alarms["partitions-per-broker"].metrics == ("managedkafka.googleapis.com/partitions",)
    assert alarms["partitions-per-broker"].threshold == 4000
    for a in alarms.values():
        assert a.resource_type == "managedkafka.googleapis.com/Cluster"
        assert a.dimensions == {"cluster_id": hub.name}
        assert a.region == hub.region and a.notify == monitoring.GCP_CHANNELS


def test_gcp_thresholds_are_overridable_in_config():
    plan = _plan(
        "regional-clusters",
        "gcp-hub",
        alerts={"thresholds": {"gcpCpuPercent": 70, "gcpPartitionsPerBroker": 2000, "messageLag": 50}},
    )
    by_what = {a.key.split(":", 1)[1]: a for a in plan.alarms.values() if a.cloud == geo.GCP}
    assert by_what["cpu"].threshold == 0.7
    assert by_what["partitions-per-broker"].threshold == 2000
    assert by_what["mirror-lag"].threshold == 50 and by_what["mirror-lag"].query.endswith("> 50")
    assert "multicloud-kafka:alerts.thresholds.gcpCpuPercent = 0: must be from 1 to 100" in "\n".join(
        _problems({"thresholds": {"gcpCpuPercent": 0}})
    )


@pytest.mark.parametrize("stack", ["aws-hub-gcp-spokes", "gcp-hub"])
def test_every_mirrormaker_connector_on_gcp_alarms_when_a_task_is_killed(stack):
    """Kafka Connect's WorkerTask logs "<task> Task threw an uncaught and unrecoverable exception.
    Task is being killed and will not recover until manually restarted" at ERROR
    (connect-runtime, WorkerTask), the task named <connector>-<n>. Managed Kafka
    Connect's logs are on the monitored resource managedkafka.googleapis.com/ConnectCluster,
    label cluster_id (https://cloud.google.com/logging/docs/api/v2/resource-list); quoted
    terms are global restrictions of the Logging query language
    (https://cloud.google.com/logging/docs/view/logging-query-language).
    """
    plan = _plan("regional-clusters", stack)
    flows = [f for f in plan.mirrors.values() if f.mechanism == MirrorMechanism.MM2_GCP_CONNECT]
    assert flows
    for flow in flows:
        connect = monitoring.connect_cluster_id(plan, flow)
        assert len(connect) <= 63
        for role, connector in mirrormaker.connector_names(flow).items():
            a = plan.alarms[f"{flow.key}:{role}-failed-tasks"]
            assert a.formula == Formula.LOG_MATCH and a.subject == Subject.CONNECTOR
            assert a.region == plan.config.regions[flow.target] and a.notify == monitoring.GCP_CHANNELS
            assert a.query == (
                'resource.type="managedkafka.googleapis.com/ConnectCluster" '
                f'AND resource.labels.cluster_id="{connect}" '
                f'AND "Task threw an uncaught and unrecoverable exception" AND "{connector}-"'
            )


def test_mirror_lag_between_two_managed_kafka_clusters_compares_their_end_offsets():
    """last_offset ("the last offset in the partition", labels cluster_id, topic_id,
    partition_index: https://cloud.google.com/managed-service-for-apache-kafka/docs/monitor-cluster)
    in PromQL is managedkafka_googleapis_com:last_offset: the first '/' becomes ':', other
    special characters '_' (https://cloud.google.com/monitoring/promql/promql-mapping).
    A flow from MSK into GCP gets no lag alarm: no one metric store sees both ends.
    """
    plan = _plan("regional-clusters", "gcp-hub")
    lagged = {a.owner: a for a in plan.alarms.values() if a.key.endswith(":mirror-lag")}
    for flow in plan.mirrors.values():
        source = plan.config.regions[flow.source]
        if flow.mechanism != MirrorMechanism.MM2_GCP_CONNECT or source.cloud != geo.GCP:
            assert flow.key not in lagged
            continue
        a = lagged[flow.key]
        src, dst = plan.clusters[flow.source].name, plan.clusters[flow.target].name
        topics = "|".join(flow.topics)
        side = 'sum(max by (topic_id, partition_index) (managedkafka_googleapis_com:last_offset{{cluster_id="{}",topic_id=~"{}"}}))'
        assert a.query == f"{side.format(src, topics)} - {side.format(dst, topics)} > 100000"
        assert a.formula == Formula.PROMQL and a.threshold == 100_000
    assert lagged
    aws_hub = _plan("regional-clusters", "aws-hub-gcp-spokes")
    assert not [a for a in aws_hub.alarms.values() if a.key.endswith(":mirror-lag")]


def test_a_dotted_topic_name_is_matched_literally_in_promql():
    query = monitoring.mirror_lag_query("a", "b", ("orders.v1", "ORDERS"), 10)
    assert 'topic_id=~"orders\\\\.v1|ORDERS"' in query


def test_gcp_alarms_notify_the_projects_email_channels():
    """Cloud Monitoring's notification channels belong to the project: one set serves every policy."""
    plan = _plan("regional-clusters", "gcp-hub", alerts={"emails": ["oncall@example.com"]})
    n = plan.notifications[monitoring.GCP_CHANNELS]
    assert n.emails == ("oncall@example.com",) and n.region == plan.hub.region
    assert {a.notify for a in plan.alarms.values() if a.cloud == geo.GCP} == {monitoring.GCP_CHANNELS}
    aws_only = _plan("regional-clusters", "aws")
    assert monitoring.GCP_CHANNELS not in aws_only.notifications


def test_the_gcp_dashboard_has_a_chart_per_managed_kafka_cluster_and_per_flow_into_gcp():
    plan = _plan("regional-clusters", "gcp-hub")
    body = monitoring.gcp_dashboard_body(plan)
    titles = [w["title"] for w in body["gridLayout"]["widgets"]]
    clusters = [f"cluster {c.key}" for c in plan.clusters.values() if c.region.cloud == geo.GCP]
    flows = [f"mirror {f.key}" for f in plan.mirrors.values() if f.mechanism == MirrorMechanism.MM2_GCP_CONNECT]
    assert sorted(titles) == sorted(clusters + flows)
    assert body["displayName"] == monitoring.dashboard_name(plan)


def test_msk_connect_widgets_show_the_record_rates_a_stalled_flow_drops_to_zero():
    """MSK Connect sends no MirrorMaker 2 lag metric to CloudWatch; its table
    (https://docs.aws.amazon.com/msk/latest/developerguide/mkc-monitoring-overview.html)
    lists SourceRecordPollRate and SourceRecordWriteRate under ConnectorName."""
    plan = _plan("regional-clusters", "gcp-hub")
    widgets = {w["properties"]["title"]: w for w in monitoring.dashboard_body(plan)["widgets"]}
    connect = [f for f in plan.mirrors.values() if f.mechanism == MirrorMechanism.MM2_MSK_CONNECT]
    assert connect
    for flow in connect:
        metrics = {m[1] for m in widgets[f"mirror {flow.key}"]["properties"]["metrics"]}
        assert {"SourceRecordPollRate", "SourceRecordWriteRate", "ErroredTaskCount", "RunningTaskCount"} == metrics
    assert not any("Lag" in a.metric for a in plan.alarms.values() if a.namespace == "AWS/KafkaConnect")


def test_plan_text_lists_the_gcp_alarms_with_their_thresholds():
    plan = _plan("regional-clusters", "gcp-hub", alerts={"emails": ["oncall@example.com"]})
    text = plan_text(plan)
    section = text[text.index("Alarms (multicloud-kafka:alerts.thresholds)") : text.index("Alarm notifications")]
    assert any("cpu/core_usage_time / cpu/limit" in r and "ALIGN_RATE > 0.8" in r for r in section.splitlines())
    assert "channels:gcp" in text[text.index("Alarm notifications") :]
