"""The `alerts` key and the alarms the plan holds: one set per MSK cluster, replicator and connector."""

from __future__ import annotations

import pytest

from infra import aws_rules, geo, mirrormaker, monitoring
from infra.alerts import Comparison, Subject, Thresholds
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
            assert mine == []
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
            assert mine == {}
    assert seen or stack == "aws-hub-gcp-spokes"


@pytest.mark.parametrize("stack", list(STACKS))
def test_every_alarm_notifies_a_topic_in_its_own_region_with_the_configured_subscribers(stack):
    """A CloudWatch alarm is evaluated in its metric's region; its SNS topic is kept in that
    same region (one topic per AWS region with alarms), so no action crosses regions."""
    plan = _plan("regional-clusters", stack, alerts={"emails": ["oncall@example.com", "kafka@example.com"]})
    assert plan.alarms
    for a in plan.alarms.values():
        n = plan.notifications[a.notify]
        assert n.region == a.region
        assert n.emails == ("oncall@example.com", "kafka@example.com")
    assert {n.region.key for n in plan.notifications.values()} == {a.region.key for a in plan.alarms.values()}


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
