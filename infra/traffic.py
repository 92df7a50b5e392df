"""Traffic and cost model: the bytes each architecture moves, from its Plan.

A message from a service in region s, for region d, is followed through the
plan: produced to the cluster the source's contract names, replicated inside
that cluster, copied by every mirror flow that carries its topic (and
replicated again there), and fetched by every region whose contract reads
that topic on that cluster. Header-routing consumers fetch every message and
drop what is not theirs, so they are counted as fetching it. Nothing here
branches on the architecture's name: the numbers follow from the plan.

Every hop is classed by where its bytes go: inside one region, across regions
of one cloud, or across clouds. The sending side's cloud pays the egress.

A self-managed region (on-premises, or another platform) costs the stack
nothing of its own: its cluster is already paid for, MirrorMaker 2 into it
runs on the operator's machines, and what it sends leaves no cloud. Its bytes
are still counted, and a cloud that sends to it (a hub feeding its
consumers, a mirror flow into it) pays that egress as cross-cloud traffic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from infra import geo
from infra.geo import Region
from infra.kinds import LinkKind, MirrorMechanism
from infra.plan import Plan
from infra.validation import ConfigError, Problem

SAME_REGION = "same-region"
CROSS_REGION = "cross-region"
CROSS_CLOUD = "cross-cloud"
REPLICATION = "replication"
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 1e9

# Approximate on-demand list prices in USD (us-east-1 / us-central1) as of
# 2026. They are a default to compare architectures with, not a quote: check
# them against your contract and override any of them with --prices FILE.
DEFAULT_PRICES: dict[str, float] = {
    # Per GB sent, paid by the sending cloud.
    "aws.crossRegionPerGb": 0.02,
    "gcp.crossRegionPerGb": 0.02,
    "aws.crossCloudPerGb": 0.09,
    "gcp.crossCloudPerGb": 0.12,
    # MSK does not charge for replication between brokers; Managed Kafka's
    # price includes it. Set these if yours does.
    "aws.replicationPerGb": 0.0,
    "gcp.replicationPerGb": 0.0,
    # Per hour.
    "aws.brokerHour.kafka.t3.small": 0.0456,
    "aws.brokerHour.kafka.m5.large": 0.21,
    "aws.brokerHour.kafka.m7g.large": 0.204,
    "aws.brokerHour.kafka.m7g.xlarge": 0.408,
    "aws.brokerHour.kafka.m7g.2xlarge": 0.816,
    "gcp.vcpuHour": 0.09,
    "gcp.memoryGibHour": 0.0125,
    # A MirrorMaker 2 flow on MSK Connect or Managed Kafka Connect, per hour.
    "aws.mirrorHour": 0.30,
    "gcp.mirrorHour": 0.30,
    # MSK Replicator is billed per Replicator-hour and per GB it replicates
    # (Amazon MSK pricing, "MSK Replicator"); a flow it runs pays these instead.
    "aws.replicatorHour": 0.30,
    "aws.replicatorPerGb": 0.08,
    # One AWS VPN connection is two tunnels; an HA VPN link has four tunnels
    # on the GCP side and two connections on the AWS side.
    "aws.vpnConnectionHour": 0.05,
    "gcp.vpnTunnelHour": 0.05,
    # Per GB-month of broker storage.
    "aws.storageGbMonth": 0.10,
}


@dataclass(frozen=True)
class Traffic:
    """The load to model: total message rate and size, spread evenly.

    Sources and destinations are uniform over the regions and events unless
    weights are given (region key -> weight).
    """

    messages_per_second: float = 1000.0
    payload_bytes: float = 1024
    # Kafka's framing per record: about 10 B of lengths, deltas and counts,
    # plus a 61 B batch header shared by the records of a batch. Measured on
    # the emulator (./scripts/measure, 1000 msg/s over 6 to 24 partitions per
    # region): 24 to 66 B depending on how many records a batch held.
    record_overhead_bytes: int = 45
    sources: Mapping[str, float] | None = None
    destinations: Mapping[str, float] | None = None


@dataclass
class Flows:
    """Bytes per second, by class of hop and by region."""

    by_class: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    # (class, paying cloud) -> bytes/s, for pricing.
    by_payer: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    fetched_by_region: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    delivered_by_region: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    # Mirror flow key -> bytes/s it copies.
    mirrored_by_flow: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def record_bytes(traffic: Traffic, headers: Mapping[str, str]) -> float:
    return traffic.payload_bytes + traffic.record_overhead_bytes + sum(len(k) + len(v) for k, v in headers.items())


def _weights(keys: list[str], given: Mapping[str, float] | None) -> dict[str, float]:
    w = {key: (given or {}).get(key, 0.0 if given else 1.0) for key in keys}
    total = sum(w.values()) or 1.0
    return {key: v / total for key, v in w.items()}


def _hop(a: Region, b: Region) -> str:
    if a.key == b.key:
        return SAME_REGION
    return CROSS_REGION if a.cloud == b.cloud else CROSS_CLOUD


def flows(plan: Plan, traffic: Traffic) -> Flows:
    """Bytes per second moved by `traffic` through `plan`."""
    cfg = plan.config
    regions = list(cfg.regions)
    src_w = _weights(regions, traffic.sources)
    dst_w = _weights(regions, traffic.destinations)
    per_event = traffic.messages_per_second / len(cfg.events)
    out = Flows()

    def where(key: str) -> Region:
        """The region of a cluster or region key: a region may hold a local cluster and the standby hub."""
        return plan.clusters[key].region if key in plan.clusters else cfg.regions[key]

    def move(src: str, dst: str, rate: float, kind: str | None = None) -> None:
        a, b = where(src), where(dst)
        kind = kind or _hop(a, b)
        out.by_class[kind] += rate
        out.by_payer[(kind, a.cloud)] += rate

    for source in regions:
        rc = plan.routing[source]
        for event in cfg.events:
            for dest in regions:
                route = rc.produce[event][dest]
                rate = per_event * src_w[source] * dst_w[dest] * record_bytes(traffic, route.headers)
                if rate == 0:
                    continue
                move(source, rc.produce_cluster, rate)
                landed = [rc.produce_cluster]
                for flow in plan.mirrors.values():
                    if flow.source in landed and route.topic in flow.topics:
                        move(flow.source, flow.target, rate)
                        out.mirrored_by_flow[flow.key] += rate
                        landed.append(flow.target)
                for cluster in landed:
                    rf = plan.topics[cluster][route.topic].settings.replication_factor
                    move(cluster, cluster, rate * (rf - 1), REPLICATION)
                for region, c in plan.routing.items():
                    if c.consume_cluster in landed and c.consume[event] == route.topic:
                        move(c.consume_cluster, region, rate)
                        out.fetched_by_region[region] += rate
                        if region == dest:
                            out.delivered_by_region[region] += rate
    return out


def load_prices(path: Path | None) -> dict[str, float]:
    prices = dict(DEFAULT_PRICES)
    if path is None:
        return prices
    where = str(path)
    try:
        given = yaml.safe_load(path.read_text()) or {}
    except OSError as e:
        raise ConfigError(
            where, [Problem("--prices", where, f"cannot be read ({e.strerror}): give a YAML file of price keys to USD")]
        ) from None
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(
            where, [Problem("--prices", where, "is not valid YAML: " + " ".join(str(e).split())[:200])]
        ) from None
    if not isinstance(given, dict):
        raise ConfigError(
            where,
            [
                Problem(
                    "--prices",
                    where,
                    f"holds a {type(given).__name__}; it must be a YAML map "
                    "of price keys to USD, e.g. 'aws.crossCloudPerGb: 0.09'",
                )
            ],
        )
    problems = [
        Problem(f"{path}:{key}", value, f"is not a known price; known: {', '.join(DEFAULT_PRICES)}")
        for key, value in given.items()
        if key not in DEFAULT_PRICES
    ] + [
        Problem(f"{path}:{key}", value, "must be a number of USD, 0 or more")
        for key, value in given.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf
    ]
    if problems:
        raise ConfigError(where, problems)
    prices.update({key: float(v) for key, v in given.items()})
    return prices


@dataclass(frozen=True)
class Cost:
    transfer: float
    clusters: float
    mirrors: float
    links: float

    @property
    def total(self) -> float:
        return self.transfer + self.clusters + self.mirrors + self.links


def monthly_cost(plan: Plan, f: Flows, prices: Mapping[str, float]) -> Cost:
    cfg = plan.config
    per_gb = {CROSS_REGION: "crossRegionPerGb", CROSS_CLOUD: "crossCloudPerGb", REPLICATION: "replicationPerGb"}
    transfer = sum(
        rate * SECONDS_PER_MONTH / GB * prices[f"{cloud}.{per_gb[kind]}"]
        for (kind, cloud), rate in f.by_payer.items()
        if kind in per_gb and cloud in geo.CLOUDS
    )
    clusters = 0.0
    for c in plan.clusters.values():
        if geo.is_self_managed(c.region):
            continue
        if c.region.cloud == geo.AWS:
            brokers = 3 * cfg.msk.brokers_per_az
            hour = prices.get(f"aws.brokerHour.{cfg.msk.instance_type}", prices["aws.brokerHour.kafka.m7g.large"])
            clusters += brokers * (hour * HOURS_PER_MONTH + cfg.msk.volume_gib * prices["aws.storageGbMonth"])
        else:
            mk = cfg.managed_kafka
            clusters += HOURS_PER_MONTH * (
                mk.vcpu_count * prices["gcp.vcpuHour"] + mk.memory_gib * prices["gcp.memoryGibHour"]
            )
    mirrors = sum(
        HOURS_PER_MONTH * prices["aws.replicatorHour"]
        + f.mirrored_by_flow.get(m.key, 0.0) * SECONDS_PER_MONTH / GB * prices["aws.replicatorPerGb"]
        if m.mechanism == MirrorMechanism.MSK_REPLICATOR
        else HOURS_PER_MONTH * prices[f"{plan.clusters[m.target].region.cloud}.mirrorHour"]
        for m in plan.mirrors.values()
        if m.mechanism != MirrorMechanism.MM2_OPERATOR
    )
    vpn_links = sum(1 for link in plan.links.values() if link.kind == LinkKind.HA_VPN)
    links = vpn_links * HOURS_PER_MONTH * (2 * prices["aws.vpnConnectionHour"] + 4 * prices["gcp.vpnTunnelHour"])
    return Cost(transfer, clusters, mirrors, links)
