"""Alarms under mocks: every planned alarm is registered for what the program really built, and notifies."""

from __future__ import annotations

import json

import pytest

from tests.support.program import ALARM_CASES, ALERT_EMAILS, of_type, realize_alarm_case

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
EMAILS = ALERT_EMAILS


@pytest.fixture(scope="module", params=ALARM_CASES)
def realized(request):
    return realize_alarm_case(request.param, emails=False)


def _regions(regs) -> dict[str, str]:
    return {r.urn: r.inputs["region"] for r in of_type(regs, "pulumi:providers:aws")}


def _watched_names(inputs) -> set[str]:
    dims = [inputs.get("dimensions") or {}] + [
        q["metric"]["dimensions"] for q in inputs.get("metricQueries", []) if "metric" in q
    ]
    return {v for d in dims for k, v in d.items() if k != "Broker ID"}


def _aws(plan):
    return [a for a in plan.alarms.values() if a.cloud == "aws"]


def test_every_planned_alarm_is_registered_in_its_region(realized):
    plan, regs, _ = realized
    regions = _regions(regs)
    got = {a.inputs["name"]: regions[a.provider] for a in of_type(regs, ALARM)}
    assert got == {a.name: a.region.name for a in _aws(plan)}


def test_alarms_watch_the_clusters_replicators_and_connectors_the_program_built(realized):
    """Each alarm's dimension must be the name MSK, MSK Replicator or MSK Connect reports the
    resource under: the cluster's clusterName, the replicator's replicatorName, the connector's name."""
    plan, regs, _ = realized
    built = (
        {c.inputs["clusterName"] for c in of_type(regs, "aws:msk/cluster:Cluster")}
        | {r.inputs["replicatorName"] for r in of_type(regs, "aws:msk/replicator:Replicator")}
        | {c.inputs["name"] for c in of_type(regs, "aws:mskconnect/connector:Connector")}
    )
    watched = set().union(*(_watched_names(a.inputs) for a in of_type(regs, ALARM)))
    assert watched == built
    # ... and every one of them is watched.
    assert len(built) == len({n for a in _aws(plan) for k, n in a.dimensions.items() if k != "Broker ID"})


def test_every_alarm_notifies_its_regions_topic_on_alarm_and_ok(realized):
    plan, regs, outputs = realized
    regions = _regions(regs)
    topics = {regions[t.provider]: t for t in of_type(regs, TOPIC)}
    arns = outputs["monitoring"]["aws"]["notifications"]
    assert set(arns) == {k for k, n in plan.notifications.items() if n.region.cloud == "aws"}
    for a in of_type(regs, ALARM):
        region = regions[a.provider]
        arn = arns[f"sns:aws/{region}"]
        assert topics[region].inputs["name"] in arn
        assert a.inputs["alarmActions"] == a.inputs["okActions"] == [arn]


def test_each_topic_is_encrypted_and_has_the_configured_subscribers(realized):
    plan, regs, outputs = realized
    subs = of_type(regs, SUBSCRIPTION)
    emails = plan.config.alerts.emails
    assert len(subs) == len(emails) * len(outputs["monitoring"]["aws"]["notifications"])
    assert {(s.inputs["topic"], s.inputs["endpoint"]) for s in subs} == {
        (arn, e) for arn in outputs["monitoring"]["aws"]["notifications"].values() for e in emails
    }
    assert all(s.inputs["protocol"] == "email" for s in subs)
    assert all(t.inputs["kmsMasterKeyId"] for t in of_type(regs, TOPIC))


def test_one_dashboard_per_stack_named_in_the_outputs(realized):
    plan, regs, outputs = realized
    (dashboard,) = of_type(regs, DASHBOARD)
    body = json.loads(dashboard.inputs["dashboardBody"])
    assert len(body["widgets"]) >= sum(c.region.cloud == "aws" for c in plan.clusters.values())
    assert outputs["monitoring"]["aws"]["dashboard"]["name"] == dashboard.inputs["dashboardName"]
    assert _regions(regs)[dashboard.provider] == outputs["monitoring"]["aws"]["dashboard"]["region"]
