"""CloudWatch alarms, their SNS topics and the stack's CloudWatch dashboard, as the plan lists them for AWS.

`infra.monitoring` decides every alarm, threshold and notification target;
this module only registers them: per `Plan.notifications` entry an SNS topic
(KMS-encrypted with the AWS-managed SNS key) in that region with an e-mail
subscription per address, per `Plan.alarms` entry a `cloudwatch.MetricAlarm`
in the alarm's region whose alarm and OK actions are that topic, and one
`cloudwatch.Dashboard` whose widgets each name their own region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import geo, monitoring
from infra.alerts import Alarm, Comparison
from infra.components.base import Context, Site

TYPE = "multicloud-kafka:aws:Alarms"
OPERATORS = {
    Comparison.GREATER: "GreaterThanThreshold",
    Comparison.LESS: "LessThanThreshold",
    # CloudWatch has no "not equal": the alarm watches |value - threshold| > 0.
    Comparison.NOT_EQUAL: "GreaterThanThreshold",
}
# SNS encrypts at rest with this AWS-managed key unless told otherwise.
SNS_KMS_KEY = "alias/aws/sns"


def _queries(alarm: Alarm) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """Metric math for an alarm on a sum of metrics or a "not equal" comparison."""
    ids = [f"m{i}" for i in range(1, len(alarm.metrics) + 1)]
    total = " + ".join(ids)
    expression = f"ABS({total} - {alarm.threshold:g})" if alarm.comparison == Comparison.NOT_EQUAL else total
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=i,
            return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=alarm.namespace,
                metric_name=metric,
                dimensions=dict(alarm.dimensions),
                period=alarm.period,
                stat=alarm.statistic,
            ),
        )
        for i, metric in zip(ids, alarm.metrics, strict=True)
    ]
    label = alarm.metric if alarm.comparison != Comparison.NOT_EQUAL else f"|{alarm.metric} - {alarm.threshold:g}|"
    return [
        *queries,
        aws.cloudwatch.MetricAlarmMetricQueryArgs(id="e1", expression=expression, label=label, return_data=True),
    ]


def metric_alarm_args(alarm: Alarm, topic_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The `cloudwatch.MetricAlarm` arguments of one planned alarm."""
    common: dict[str, Any] = {
        "name": alarm.name,
        "alarm_description": f"{alarm.subject} {alarm.owner}: {alarm.metric} {alarm.comparison} {alarm.threshold:g} "
        f"({alarm.source})",
        "comparison_operator": OPERATORS[alarm.comparison],
        "evaluation_periods": alarm.evaluation_periods,
        "datapoints_to_alarm": alarm.evaluation_periods,
        "threshold": 0 if alarm.comparison == Comparison.NOT_EQUAL else alarm.threshold,
        # No data is not an outage of the broker metrics MSK always sends;
        # a missing replicator or connector shows as its own failure metrics.
        "treat_missing_data": "notBreaching",
        "alarm_actions": [topic_arn],
        "ok_actions": [topic_arn],
    }
    if len(alarm.metrics) == 1 and alarm.comparison != Comparison.NOT_EQUAL:
        return {
            **common,
            "namespace": alarm.namespace,
            "metric_name": alarm.metrics[0],
            "dimensions": dict(alarm.dimensions),
            "statistic": alarm.statistic,
            "period": alarm.period,
        }
    return {**common, "metric_queries": _queries(alarm)}


class AwsAlarms(pulumi.ComponentResource):
    """The plan's CloudWatch alarms, SNS topics and dashboard."""

    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        plan = ctx.plan
        self.topics: dict[str, aws.sns.Topic] = {}
        for key, n in plan.notifications.items():
            if n.region.cloud != geo.AWS:
                continue
            on = pulumi.ResourceOptions(parent=self, provider=ctx.provider(n.region))
            topic = aws.sns.Topic(n.name, name=n.name, kms_master_key_id=SNS_KMS_KEY, opts=on)
            self.topics[key] = topic
            for i, address in enumerate(n.emails):
                aws.sns.TopicSubscription(
                    f"{n.name}-{i}",
                    topic=topic.arn,
                    protocol="email",
                    endpoint=address,
                    opts=pulumi.ResourceOptions(parent=topic, provider=ctx.provider(n.region)),
                )
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {
            key: aws.cloudwatch.MetricAlarm(
                alarm.name,
                **metric_alarm_args(alarm, self.topics[alarm.notify].arn),
                opts=pulumi.ResourceOptions(parent=self, provider=ctx.provider(alarm.region)),
            )
            for key, alarm in plan.alarms.items()
            if alarm.cloud == geo.AWS
        }
        self.dashboard: aws.cloudwatch.Dashboard | None = None
        region = monitoring.dashboard_region(plan)
        outputs: dict[str, Any] = {"notifications": {k: t.arn for k, t in self.topics.items()}}
        if region is not None:
            name = monitoring.dashboard_name(plan)
            self.dashboard = aws.cloudwatch.Dashboard(
                name,
                dashboard_name=name,
                dashboard_body=json.dumps(monitoring.dashboard_body(plan), sort_keys=True),
                opts=pulumi.ResourceOptions(parent=self, provider=ctx.provider(region)),
            )
            outputs["dashboard"] = {"name": self.dashboard.dashboard_name, "region": region.name}
        self.outputs = outputs
        self.register_outputs(outputs)


def realize_alarms(ctx: Context, sites: Mapping[str, Site], mirrors: Mapping[str, pulumi.Resource]) -> AwsAlarms | None:
    """The stack's AWS alarms, after the clusters and flows they watch; None when the plan has none."""
    if not any(r.cloud == geo.AWS for r in ctx.plan.config.regions.values()):
        return None
    watched = [x for x in [*(s.cluster for s in sites.values()), *mirrors.values()] if isinstance(x, pulumi.Resource)]
    return AwsAlarms(f"{ctx.prefix}-alarms", ctx, pulumi.ResourceOptions(parent=ctx.parent, depends_on=watched))
