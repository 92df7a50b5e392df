"""Cloud Monitoring under mocks: every planned GCP alarm is an alert policy on what the program built, and notifies.

Run for every repo stack (each has GCP regions) and for a mixed-cloud stack
whose hub is in GCP (Managed Kafka Connect from the hub to a GCP spoke, MSK
Connect into the AWS spokes).
"""

from __future__ import annotations

import json

import pytest

from infra import geo, monitoring
from infra.kinds import MirrorMechanism
from tests.support.program import ALARM_CASES, ALERT_EMAILS, of_type, realize_alarm_case

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
DASHBOARD = "gcp:monitoring/dashboard:Dashboard"
EMAILS = ALERT_EMAILS


@pytest.fixture(scope="module", params=ALARM_CASES)
def realized(request):
    return realize_alarm_case(request.param, emails=True)


def _filters(policy) -> str:
    """Every filter and query text of a policy's conditions."""
    out = []
    for c in policy.inputs["conditions"]:
        for kind in ("conditionThreshold", "conditionMatchedLog", "conditionPrometheusQueryLanguage"):
            body = c.get(kind) or {}
            out += [body.get("filter", ""), body.get("denominatorFilter", ""), body.get("query", "")]
    return "\n".join(out)


def _watches_gcp(plan) -> bool:
    return any(c.region.cloud == geo.GCP for c in plan.clusters.values())


def test_every_planned_gcp_alarm_is_one_alert_policy(realized):
    plan, regs, outputs = realized
    policies = {p.inputs["displayName"]: p for p in of_type(regs, POLICY)}
    planned = {a.name: a for a in plan.alarms.values() if a.cloud == geo.GCP}
    assert set(policies) == set(planned)
    # A stack with no cluster in GCP (dev: header routing, hub on AWS) watches nothing there.
    assert bool(planned) == _watches_gcp(plan) == ("gcp" in outputs["monitoring"])
    for name, p in policies.items():
        (condition,) = p.inputs["conditions"]
        assert p.inputs["combiner"] == "OR"
        alarm = planned[name]
        if alarm.query:
            assert alarm.query in _filters(p)
        else:
            threshold = condition["conditionThreshold"]
            assert threshold["thresholdValue"] == alarm.threshold
            assert threshold["duration"] == f"{alarm.period * alarm.evaluation_periods}s"


def test_every_managed_kafka_cluster_the_program_built_is_watched(realized):
    """A policy's filter names the cluster by the cluster_id Managed Kafka reports it under: the cluster's clusterId."""
    _, regs, _ = realized
    clusters = [c.inputs["clusterId"] for c in of_type(regs, "gcp:managedkafka/cluster:Cluster")]
    for cluster in clusters:
        watching = [p for p in of_type(regs, POLICY) if f'resource.labels.cluster_id="{cluster}"' in _filters(p)]
        metrics = {
            m
            for p in watching
            for m in ("cpu/core_usage_time", "offline_partitions", '/partitions"')
            if m in _filters(p)
        }
        assert metrics == {"cpu/core_usage_time", "offline_partitions", '/partitions"'}
        (cpu,) = [p for p in watching if "cpu/core_usage_time" in _filters(p)]
        threshold = cpu.inputs["conditions"][0]["conditionThreshold"]
        assert "managedkafka.googleapis.com/cpu/limit" in threshold["denominatorFilter"]
        assert threshold["aggregations"][0]["perSeriesAligner"] == "ALIGN_RATE"


def test_every_connector_the_program_built_is_watched_for_killed_tasks(realized):
    """The log filter names the Connect cluster by its connectClusterId and the connector by its connectorId."""
    plan, regs, _ = realized
    connects = {
        c.urn: c.inputs["connectClusterId"] for c in of_type(regs, "gcp:managedkafka/connectCluster:ConnectCluster")
    }
    connectors = of_type(regs, "gcp:managedkafka/connector:Connector")
    assert len(connectors) == 2 * sum(f.mechanism == MirrorMechanism.MM2_GCP_CONNECT for f in plan.mirrors.values())
    logs = [_filters(p) for p in of_type(regs, POLICY) if p.inputs["conditions"][0].get("conditionMatchedLog")]
    for connector in connectors:
        connect = connector.inputs["connectCluster"]
        assert connect in connects.values()
        assert any(f'cluster_id="{connect}"' in f and f'"{connector.inputs["connectorId"]}-"' in f for f in logs)
    assert len(logs) == len(connectors)


def test_log_policies_are_rate_limited_and_metric_policies_close_themselves(realized):
    """pulumi-gcp AlertPolicy: notificationRateLimit is required for a policy with a LogMatch condition."""
    _, regs, _ = realized
    for p in of_type(regs, POLICY):
        strategy = p.inputs["alertStrategy"]
        if p.inputs["conditions"][0].get("conditionMatchedLog"):
            assert strategy["notificationRateLimit"]["period"]
        else:
            assert strategy["autoClose"]


def test_every_policy_notifies_every_configured_address(realized):
    plan, regs, outputs = realized
    if not _watches_gcp(plan):
        assert of_type(regs, CHANNEL) == []
        return
    channels = of_type(regs, CHANNEL)
    assert {c.inputs["labels"]["email_address"] for c in channels} == set(EMAILS)
    assert all(c.inputs["type"] == "email" for c in channels)
    named = outputs["monitoring"]["gcp"]["notifications"][monitoring.GCP_CHANNELS]
    assert set(named) == set(EMAILS)
    for p in of_type(regs, POLICY):
        assert sorted(p.inputs["notificationChannels"]) == sorted(named.values())


def test_one_gcp_dashboard_per_stack_named_in_the_outputs(realized):
    plan, regs, outputs = realized
    if not _watches_gcp(plan):
        assert of_type(regs, DASHBOARD) == []
        return
    (dashboard,) = of_type(regs, DASHBOARD)
    body = json.loads(dashboard.inputs["dashboardJson"])
    charts = body["gridLayout"]["widgets"]
    assert len(charts) >= sum(c.region.cloud == geo.GCP for c in plan.clusters.values())
    assert outputs["monitoring"]["gcp"]["dashboard"] == {"name": body["displayName"], "region": "global"}
