"""Cloud Monitoring alert policies, e-mail notification channels and the stack's dashboard, as the plan lists them.

`infra.monitoring` decides every GCP alarm, threshold and metric; this module
only registers them: per address of the `channels:gcp` notification an
`email` notification channel, per GCP entry of `Plan.alarms` an alert policy
with one condition (a threshold, a threshold over a denominator, a log match
or a PromQL rule, as the alarm's formula says) that notifies every channel,
and one dashboard. Cloud Monitoring's channels, policies and dashboards
belong to the project, not to a region.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra import geo, monitoring
from infra.alerts import Alarm, Comparison, Formula
from infra.components.base import Context, Site

TYPE = "multicloud-kafka:gcp:Monitoring"
COMPARISONS = {Comparison.GREATER: "COMPARISON_GT", Comparison.LESS: "COMPARISON_LT"}
# pulumi-gcp: a policy with a log-match condition requires a notification rate
# limit; one mail per connector every 5 minutes while its tasks keep failing.
LOG_NOTIFY_PERIOD = "300s"
# An incident whose condition has had no data for this long closes by itself.
AUTO_CLOSE = "1800s"


def _filter(alarm: Alarm, metric: str) -> str:
    labels = " AND ".join(f'resource.labels.{k}="{v}"' for k, v in sorted(alarm.dimensions.items()))
    return f'metric.type="{metric}" AND resource.type="{alarm.resource_type}" AND {labels}'


def _aggregation(
    alarm: Alarm, aligner: str
) -> list[gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs]:
    return [
        gcp.monitoring.AlertPolicyConditionConditionThresholdAggregationArgs(
            alignment_period=f"{alarm.period}s",
            per_series_aligner=aligner,
        )
    ]


def condition_args(alarm: Alarm) -> gcp.monitoring.AlertPolicyConditionArgs:
    """The one condition of a planned GCP alarm."""
    duration = f"{alarm.period * alarm.evaluation_periods}s"
    if alarm.formula == Formula.LOG_MATCH:
        return gcp.monitoring.AlertPolicyConditionArgs(
            display_name=alarm.metric,
            condition_matched_log=gcp.monitoring.AlertPolicyConditionConditionMatchedLogArgs(filter=alarm.query),
        )
    if alarm.formula == Formula.PROMQL:
        return gcp.monitoring.AlertPolicyConditionArgs(
            display_name=alarm.metric,
            condition_prometheus_query_language=gcp.monitoring.AlertPolicyConditionConditionPrometheusQueryLanguageArgs(
                query=alarm.query,
                duration=duration,
                evaluation_interval=f"{alarm.period}s",
            ),
        )
    threshold: dict[str, Any] = {
        "filter": _filter(alarm, alarm.metrics[0]),
        "aggregations": _aggregation(alarm, alarm.statistic),
        "comparison": COMPARISONS[alarm.comparison],
        "threshold_value": alarm.threshold,
        "duration": duration,
    }
    if alarm.formula == Formula.RATIO:
        # The denominator (a configured capacity) is a gauge: its mean over the period.
        threshold["denominator_filter"] = _filter(alarm, alarm.metrics[1])
        threshold["denominator_aggregations"] = [
            gcp.monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs(
                alignment_period=f"{alarm.period}s",
                per_series_aligner="ALIGN_MEAN",
            )
        ]
    return gcp.monitoring.AlertPolicyConditionArgs(
        display_name=alarm.metric,
        condition_threshold=gcp.monitoring.AlertPolicyConditionConditionThresholdArgs(**threshold),
    )


def alert_policy_args(alarm: Alarm, project: str, channels: list[pulumi.Input[str]]) -> dict[str, Any]:
    """The `monitoring.AlertPolicy` arguments of one planned alarm."""
    limit = (
        gcp.monitoring.AlertPolicyAlertStrategyNotificationRateLimitArgs(period=LOG_NOTIFY_PERIOD)
        if alarm.formula == Formula.LOG_MATCH
        else None
    )
    return {
        "display_name": alarm.name,
        "project": project,
        "combiner": "OR",
        "conditions": [condition_args(alarm)],
        "notification_channels": channels,
        "alert_strategy": gcp.monitoring.AlertPolicyAlertStrategyArgs(
            auto_close=None if alarm.formula == Formula.LOG_MATCH else AUTO_CLOSE,
            notification_rate_limit=limit,
        ),
        "documentation": gcp.monitoring.AlertPolicyDocumentationArgs(
            mime_type="text/markdown",
            content=f"{alarm.subject} {alarm.owner}: {alarm.metric} {alarm.comparison} {alarm.threshold:g} "
            f"({alarm.source})",
        ),
        "user_labels": {"owner": alarm.subject.value},
    }


class GcpMonitoring(pulumi.ComponentResource):
    """The plan's Cloud Monitoring alert policies, e-mail channels and dashboard."""

    def __init__(self, name: str, ctx: Context, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        plan = ctx.plan
        home = monitoring.gcp_home(plan)
        if home is None:
            raise ValueError(f"{name}: the plan has no GCP region to monitor")
        project = ctx.gcp_project
        on = pulumi.ResourceOptions(parent=self, provider=ctx.provider(home))
        target = plan.notifications.get(monitoring.GCP_CHANNELS)
        self.channels: dict[str, gcp.monitoring.NotificationChannel] = {}
        if target is not None:
            self.channels = {
                address: gcp.monitoring.NotificationChannel(
                    f"{target.name}-{i}",
                    type="email",
                    display_name=f"{target.name}: {address}",
                    labels={"email_address": address},
                    project=project,
                    opts=on,
                )
                for i, address in enumerate(target.emails)
            }
        names: list[pulumi.Input[str]] = [c.name for c in self.channels.values()]
        self.policies: dict[str, gcp.monitoring.AlertPolicy] = {
            key: gcp.monitoring.AlertPolicy(alarm.name, **alert_policy_args(alarm, project, names), opts=on)
            for key, alarm in plan.alarms.items()
            if alarm.cloud == geo.GCP
        }
        body = monitoring.gcp_dashboard_body(plan)
        self.dashboard = gcp.monitoring.Dashboard(
            f"{monitoring.dashboard_name(plan)}-gcp",
            dashboard_json=json.dumps(body, sort_keys=True),
            project=project,
            opts=on,
        )
        # The same shape as the AWS output; Cloud Monitoring dashboards are the project's, in no region.
        self.outputs: dict[str, Any] = {
            "dashboard": {"name": body["displayName"], "region": "global"},
            "notifications": {monitoring.GCP_CHANNELS: {a: c.name for a, c in self.channels.items()}},
        }
        self.register_outputs(self.outputs)


def realize_monitoring(
    ctx: Context, sites: Mapping[str, Site], mirrors: Mapping[str, pulumi.Resource]
) -> GcpMonitoring | None:
    """The stack's GCP alert policies, after the clusters and flows they watch; None when nothing in GCP is watched.

    A stack whose GCP regions hold no cluster (header routing with the hub on
    AWS) has no Managed Kafka to watch, hence no policy, channel or dashboard.
    """
    if not any(a.cloud == geo.GCP for a in ctx.plan.alarms.values()):
        return None
    watched = [x for x in [*(s.cluster for s in sites.values()), *mirrors.values()] if isinstance(x, pulumi.Resource)]
    return GcpMonitoring(
        f"{ctx.prefix}-gcp-monitoring", ctx, pulumi.ResourceOptions(parent=ctx.parent, depends_on=watched)
    )
