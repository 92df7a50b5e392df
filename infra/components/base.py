"""What the plan walk hands to each cloud's realization, and what it gets back.

The walk (`infra/components/realize.py`) never names a cloud, a link kind or a
mirror mechanism: it looks each plan item up in the registries of
`infra/components/registry.py`, which map a key to one of the callables
typed below. A cloud plugs in by adding its entries there.

Every callable registers its resources under `ctx.parent` (the architecture
component) with names derived from the plan's names, and returns the object
the later steps need. Callables never create resources inside `apply()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pulumi

from infra import plan as p
from infra.geo import Region

T = TypeVar("T")


class Network(Protocol):
    """The private network of one region, as returned by a network realizer.

    `region` is the only attribute the walk reads. Each cloud's cluster, link
    and mirror realizers read their own cloud's extra attributes (AWS: `vpc`,
    `subnet_ids`, `kafka_security_group()`, `route_table`, `provider`).
    """

    @property
    def region(self) -> Region: ...


class KafkaCluster(Protocol):
    """One realized Kafka cluster (a Pulumi resource, usually a component)."""

    def bootstrap(self, client_cloud: str) -> pulumi.Output[str]:
        """The bootstrap address a client running in `client_cloud` uses.

        In-cloud clients get the address of the cloud's own auth (AWS: IAM);
        clients in another cloud get the SASL/SCRAM address.
        """
        ...


class TopicSet(Protocol):
    """The topics of one realized cluster: Kafka topic name -> resource."""

    @property
    def topics(self) -> Mapping[str, pulumi.Resource]: ...


@dataclass(frozen=True)
class Site:
    """Everything realized for one planned cluster: what a mirror flow needs.

    The fields are typed by the protocols every cloud meets; a realizer that
    needs its own cloud's attributes narrows them with `expect`, so handing
    one cloud's object to another cloud's realizer fails loudly, by name.
    """

    plan: p.Cluster
    network: Network
    cluster: KafkaCluster
    topics: TopicSet


def present(value: str | None, what: str) -> str:
    """A value the cloud always returns once the resource exists; an error naming it if not."""
    if value is None:
        raise ValueError(f"the cloud returned no {what}")
    return value


def expect(value: object, kind: type[T], what: str) -> T:
    """`value` as a `kind`, or a TypeError naming the plan item that got the wrong one."""
    if not isinstance(value, kind):
        raise TypeError(f"{what}: expected a {kind.__name__}, got a {type(value).__name__}")
    return value


@dataclass
class Context:
    """The walk's state shared with every realizer.

    `parent` is the architecture component; `provider(region)` returns the
    explicit provider of a region (created once, by the cloud's provider
    realizer), so nothing reads a global region. `once(key, make)` is the
    same for any other resource several plan items share, e.g. the one VPN
    gateway of an AWS VPC that several cross-cloud links attach to.
    """

    plan: p.Plan
    parent: pulumi.Resource
    provider_for: Callable[[Context, Region], pulumi.ProviderResource]
    _providers: dict[str, pulumi.ProviderResource] = field(default_factory=dict)
    _shared: dict[str, Any] = field(default_factory=dict)
    # link key -> the realized link, filled by the walk before any mirror flow.
    links: dict[str, pulumi.Resource] = field(default_factory=dict)
    # cluster key -> the resources that grant principals their access there
    # (Kafka ACLs), filled by the access realizers before any mirror flow.
    grants: dict[str, list[pulumi.Resource]] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.plan.config.name_prefix

    @property
    def protect(self) -> bool:
        return self.plan.config.protect

    @property
    def gcp_project(self) -> str:
        """The stack's GCP project; validation requires it wherever a region is in GCP."""
        project = self.plan.config.gcp_project
        if project is None:
            raise RealizationError(self.plan.config.stack, ["a GCP resource needs gcp:project, which is not set"])
        return project

    def provider(self, region: Region) -> pulumi.ProviderResource:
        if region.key not in self._providers:
            self._providers[region.key] = self.provider_for(self, region)
        return self._providers[region.key]

    def path(self, a: str, b: str) -> list[pulumi.Resource]:
        """The realized links that traffic between regions `a` and `b` crosses (`Plan.path`).

        A mirror flow that reaches across them depends on them, so that its
        connectors start only once the tunnels, their BGP sessions and any DNS
        forwarding exist.
        """
        return [self.links[key] for key in self.plan.path(a, b)]

    def once(self, key: str, make: Callable[[], T]) -> T:
        """`make()` the first time `key` is asked for; the same object after."""
        if key not in self._shared:
            self._shared[key] = make()
        made: T = self._shared[key]
        return made


# (ctx, region) -> the explicit provider of that region. Called once per region.
ProviderRealizer = Callable[[Context, Region], pulumi.ProviderResource]
# (ctx, every planned region of the cloud) -> region key -> Network. Called once
# per cloud, so a cloud with one global network (GCP) makes it once and
# returns it (or a per-region view of it) for each of its regions.
NetworkRealizer = Callable[[Context, Sequence[Region]], Mapping[str, Network]]
# (ctx, planned cluster, its region's Network) -> KafkaCluster.
ClusterRealizer = Callable[[Context, p.Cluster, Network], KafkaCluster]
# (ctx, planned cluster, its KafkaCluster, topic name -> planned topic) -> TopicSet.
TopicsRealizer = Callable[[Context, p.Cluster, KafkaCluster, Mapping[str, p.Topic]], TopicSet]
# (ctx, planned link, hub region's Network, spoke region's Network) -> resource.
# A cross-cloud link gets the two clouds' networks, each of its own type.
LinkRealizer = Callable[[Context, p.Link, Network, Network], pulumi.Resource]
# (ctx, planned flow, source Site, target Site) -> resource. Both sites carry
# their network, cluster and topics, so the flow can reach the source, write
# to the target and wait for the target's topics.
MirrorRealizer = Callable[[Context, p.MirrorFlow, Site, Site], pulumi.Resource]
# plan -> problems (one sentence each, naming the plan item) that this cloud
# cannot realize, found before any resource is registered.
PlanCheck = Callable[[p.Plan], list[str]]
# (ctx, cluster key -> Site, flow key -> realized flow) -> the cloud's alarms,
# notification targets and dashboard for `plan.alarms` (None: nothing to
# watch there). Called once per cloud of the plan, after every flow.
MonitoringRealizer = Callable[[Context, Mapping[str, Site], Mapping[str, pulumi.Resource]], "Monitoring | None"]


# (ctx, cluster key -> Site) -> what holds the cloud's principals to their
# grants (IAM policies, Kafka ACLs), or None where the cloud has nothing to
# hold. Called once per cloud of the plan, after links and before mirror flows.
AccessRealizer = Callable[[Context, Mapping[str, Site]], "Access | None"]


class Access(Protocol):
    """A cloud's realized access control: `outputs` maps region key -> what its services attach or use."""

    @property
    def outputs(self) -> Mapping[str, Any]: ...


class Monitoring(Protocol):
    """A cloud's realized alarms: `outputs` names its dashboard and notification targets."""

    @property
    def outputs(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Realizers:
    """The registries the walk dispatches through; see registry.py."""

    providers: Mapping[str, ProviderRealizer]
    networks: Mapping[str, NetworkRealizer]
    clusters: Mapping[str, ClusterRealizer]
    topics: Mapping[str, TopicsRealizer]
    links: Mapping[str, LinkRealizer]
    mirrors: Mapping[str, MirrorRealizer]
    checks: Mapping[str, PlanCheck]
    monitoring: Mapping[str, MonitoringRealizer] = field(default_factory=dict)
    access: Mapping[str, AccessRealizer] = field(default_factory=dict)


class RealizationError(ValueError):
    """The plan holds items this program cannot realize; nothing was registered."""

    def __init__(self, stack: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {q}" for q in problems)
        super().__init__(f"stack '{stack}': the plan cannot be realized; nothing was created:\n{lines}")
