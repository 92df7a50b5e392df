"""The `multicloud-kafka:alerts` key, and the alarms and notification targets the plan holds.

```yaml
multicloud-kafka:alerts:
  emails: [oncall@example.com]
  thresholds: {cpuPercent: 60, diskPercent: 85, replicationLatencyMs: 60000, gcpCpuPercent: 80}
```

Each threshold default comes from the document cited in `docs/operations.md`
and the test that encodes it. Nothing here imports Pulumi or the plan.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from infra.geo import Region
from infra.validation import Checker, k

KEY = "alerts"
# Deliberately loose: SNS and Cloud Monitoring confirm the address by mail;
# this catches typos such as a missing '@' or a stray space before anything is built.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Thresholds:
    """When an alarm fires; every field is overridable under `alerts.thresholds`."""

    # MSK best practices: keep CpuUser + CpuSystem under 60%.
    cpu_percent: int = 60
    # MSK best practices: alarm when KafkaDataLogsDiskUsed reaches 85%.
    disk_percent: int = 85
    # MSK Replicator: the newest record copied longer ago than this.
    replication_latency_ms: int = 60_000
    # MSK Replicator, and MirrorMaker 2 between two Managed Kafka clusters:
    # records on the source not yet on the target.
    message_lag: int = 100_000
    # Managed Service for Apache Kafka, "Monitor Kafka clusters for reliability":
    # keep CPU utilization under 80% ...
    gcp_cpu_percent: int = 80
    # ... and fewer than 4000 partitions per broker.
    gcp_partitions_per_broker: int = 4000
    # The period every alarm's statistic is taken over, and how many in a row breach.
    period_seconds: int = 60
    evaluation_periods: int = 5


@dataclass(frozen=True)
class AlertSettings:
    emails: tuple[str, ...] = ()
    thresholds: Thresholds = Thresholds()


class Subject(StrEnum):
    """What an alarm watches."""

    CLUSTER = "cluster"
    REPLICATOR = "replicator"
    CONNECTOR = "connector"


class Comparison(StrEnum):
    GREATER = ">"
    LESS = "<"
    NOT_EQUAL = "!="


class Formula(StrEnum):
    """How an alarm's `metrics` (or `query`) make the value compared to its threshold."""

    # CloudWatch: the metrics added (metric math when there are several).
    SUM = "sum"
    # Cloud Monitoring: the first metric over the second (a threshold with a denominator).
    RATIO = "ratio"
    # Cloud Monitoring: log entries matching the Logging query `query`; any one fires.
    LOG_MATCH = "log"
    # Cloud Monitoring: the PromQL expression `query`, compared to the threshold.
    PROMQL = "promql"


@dataclass(frozen=True)
class Notification:
    """Where alarms go: on AWS one SNS topic per region with alarms, on GCP the project's e-mail channels.

    CloudWatch evaluates an alarm in its metric's region; the topic sits in
    that region too, and every address of `alerts.emails` subscribes to it.
    Cloud Monitoring's notification channels are global to the project: one
    e-mail channel per address serves every alert policy; `region` is where
    the program's GCP provider for them is.
    """

    key: str
    region: Region
    name: str
    emails: tuple[str, ...]


@dataclass(frozen=True)
class Alarm:
    """One alarm: `statistic` of `metrics` (combined as `formula` says) over `period` seconds vs `threshold`.

    CloudWatch (formula SUM): several metrics (CpuUser + CpuSystem) are added
    before the comparison; `namespace` and `dimensions` select the metrics.
    Cloud Monitoring: `namespace` is the metric domain, `metrics` are metric
    types, `dimensions` the labels of the monitored resource `resource_type`
    that pick the watched resource, and `statistic` the per-series aligner;
    LOG_MATCH and PROMQL alarms hold their whole condition in `query`, and in
    `metrics` what it watches, in words, for the plan's tables.
    The alarm fires after `evaluation_periods` breaching periods in a row.
    """

    key: str
    subject: Subject
    # The cluster key or the mirror flow key the alarm belongs to.
    owner: str
    region: Region
    name: str
    namespace: str
    metrics: tuple[str, ...]
    dimensions: Mapping[str, str]
    statistic: str
    comparison: Comparison
    threshold: float
    period: int
    evaluation_periods: int
    # The key of the Notification the alarm's state changes go to.
    notify: str
    # Why the threshold is what it is: the document it comes from.
    source: str
    formula: Formula = Formula.SUM
    # Cloud Monitoring's monitored resource type; empty for CloudWatch.
    resource_type: str = ""
    # The Logging query (LOG_MATCH) or the PromQL expression (PROMQL).
    query: str = ""

    @property
    def cloud(self) -> str:
        return self.region.cloud

    @property
    def metric(self) -> str:
        short = [m.removeprefix(f"{self.namespace}/") for m in self.metrics]
        if self.formula == Formula.RATIO:
            return f"{short[0]} / {short[1]}"
        return " + ".join(short)


_THRESHOLD_SPEC: dict[str, tuple[str, int, int | None]] = {
    "cpuPercent": ("cpu_percent", 1, 100),
    "diskPercent": ("disk_percent", 1, 100),
    "replicationLatencyMs": ("replication_latency_ms", 1, None),
    "messageLag": ("message_lag", 1, None),
    "gcpCpuPercent": ("gcp_cpu_percent", 1, 100),
    "gcpPartitionsPerBroker": ("gcp_partitions_per_broker", 1, None),
    "periodSeconds": ("period_seconds", 10, 86_400),
    "evaluationPeriods": ("evaluation_periods", 1, 100),
}


def parse(c: Checker, value: Any) -> AlertSettings:
    """The `alerts` key; problems go to `c`. Absent: no subscribers, default thresholds."""
    key = k(KEY)
    m = c.mapping(key, value, "alert settings, for example {emails: [oncall@example.com]}")
    if not m:
        return AlertSettings()
    for extra in sorted(set(m) - {"emails", "thresholds"}):
        c.add(f"{key}.{extra}", m[extra], "is not an alerts setting; known: emails, thresholds")
    emails = _emails(c, f"{key}.emails", m.get("emails", []))
    spec = {
        name: (attr, lambda full, v, lo=lo, hi=hi: c.integer(full, v, lo, hi))
        for name, (attr, lo, hi) in _THRESHOLD_SPEC.items()
    }
    parsed = c.fields(f"{key}.thresholds", m.get("thresholds"), spec, "alert thresholds")
    thresholds = dataclasses.replace(Thresholds(), **(parsed or {}))
    if thresholds.period_seconds % 60 and thresholds.period_seconds not in (10, 20, 30):
        c.add(
            f"{key}.thresholds.periodSeconds",
            thresholds.period_seconds,
            "CloudWatch alarm periods are 10, 20, 30 or a multiple of 60 seconds: use 60 or 300",
        )
    return AlertSettings(emails, thresholds)


def _emails(c: Checker, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        c.add(key, value, "must be a list of e-mail addresses, for example [oncall@example.com]")
        return ()
    out: list[str] = []
    for i, address in enumerate(value):
        if not isinstance(address, str) or not EMAIL.match(address):
            c.add(f"{key}[{i}]", address, "is not an e-mail address; write it like oncall@example.com")
        elif address in out:
            c.add(f"{key}[{i}]", address, "is listed twice: each address subscribes once; remove the repeat")
        else:
            out.append(address)
    return tuple(out)
