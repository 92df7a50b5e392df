"""A self-managed Kafka cluster, through its brokers with pulumi-kafka (docs/config.md, Self-managed Kafka).

The cluster already runs; the stack owns what the plan puts on it, made as
the region's administrator (`regions.<key>.adminUser`, password from a Pulumi
secret): its topics, one SCRAM login per principal that reaches it, and the
Kafka ACLs that hold each login to its grants (infra/kafka_acls.py). The
network is the operator's: nothing is created for it. MirrorMaker 2 into
the cluster runs on the operator's machines, from the worker and connector
configuration the stack exports (`operatorMirrors`), whose passwords are
`${env:...}` references to the secret values exported beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kafka as kafka
import pulumi_random as random

from infra import access, geo, kafka_acls, mirrormaker, naming, selfmanaged
from infra.components.aws.msk import MskCluster
from infra.components.base import Context, KafkaCluster, Network, Site, expect
from infra.components.gcp.managed_kafka import ManagedKafkaCluster
from infra.components.kafka.acls import KafkaAcls, KafkaAclsArgs
from infra.config import SelfManagedCluster as Settings
from infra.geo import Region
from infra.kafka_acls import Acl
from infra.kinds import ScramMechanism
from infra.plan import Cluster, MirrorFlow, Topic
from infra.validation import NS

# pulumi-kafka's names of the SASL mechanisms (its provider's `saslMechanism`).
PROVIDER_MECHANISM = {ScramMechanism.SHA_512: "scram-sha512", ScramMechanism.SHA_256: "scram-sha256"}
PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class SelfManagedNetwork:
    """A self-managed region's network: the operator's own; the stack makes nothing in it."""

    region: Region


def realize_networks(ctx: Context, regions: Sequence[Region]) -> dict[str, SelfManagedNetwork]:
    return {r.key: SelfManagedNetwork(r) for r in regions}


def settings(ctx: Context, region: Region) -> Settings:
    return ctx.plan.config.self_managed[region.key]


def realize_provider(ctx: Context, region: Region) -> kafka.Provider:
    """pulumi-kafka's provider for the region's cluster: its administrator over SASL/SCRAM (TLS unless `tls: false`).

    The password is read from the secret config key the region names, and
    stays a secret in the state.
    """
    sm = settings(ctx, region)
    return kafka.Provider(
        f"{naming.resource_name(ctx.prefix, region)}-admin",
        bootstrap_servers=list(sm.bootstrap),
        sasl_mechanism=PROVIDER_MECHANISM[sm.mechanism],
        sasl_username=sm.admin_user,
        sasl_password=pulumi.Config(NS).require_secret(sm.admin_password_key),
        tls_enabled=sm.tls,
        ca_cert=sm.ca_cert,
        opts=pulumi.ResourceOptions(parent=ctx.parent),
    )


@dataclass(frozen=True)
class SelfManagedClusterArgs:
    # The brokers' SASL listener, as the region's entry gives it.
    bootstrap: Sequence[str]
    mechanism: ScramMechanism
    # The region's administrator provider (`realize_provider`).
    provider: pulumi.ProviderResource
    # The logins the plan's principals use here (Plan.logins). Default: none.
    logins: Sequence[str] = ()
    # Their Kafka ACLs (infra.kafka_acls). Default: none.
    acls: Sequence[Acl] = field(default_factory=tuple)
    # The generation of the logins' passwords (`multicloud-kafka:scramRotation`); raising it makes new ones.
    scram_rotation: int = 0


class SelfManagedCluster(pulumi.ComponentResource):
    """The stack's part of a cluster it did not create: one SCRAM login per principal, and their ACLs.

    Each login gets a random password (pulumi-random, as MSK's SCRAM users),
    set on the brokers with `kafka.UserScramCredential` and kept a secret.
    """

    TYPE = "multicloud-kafka:kafka:SelfManagedCluster"

    def __init__(self, name: str, args: SelfManagedClusterArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        on_brokers = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._bootstrap = ",".join(args.bootstrap)
        self.scram_passwords: dict[str, pulumi.Output[str]] = {}
        self.credentials: dict[str, kafka.UserScramCredential] = {}
        for login in args.logins:
            password = random.RandomPassword(
                f"{name}-scram-{login}",
                length=PASSWORD_LENGTH,
                special=False,
                keepers={"scramRotation": str(args.scram_rotation)} if args.scram_rotation else None,
                opts=child,
            )
            self.scram_passwords[login] = pulumi.Output.secret(password.result)
            self.credentials[login] = kafka.UserScramCredential(
                f"{name}-scram-{login}",
                username=login,
                scram_mechanism=args.mechanism.value,
                password=self.scram_passwords[login],
                opts=on_brokers,
            )
        self.acls = KafkaAcls(f"{name}-acls", KafkaAclsArgs(args.acls, args.provider), child)
        self.register_outputs({"bootstrap": self._bootstrap, "logins": sorted(self.credentials)})

    def bootstrap(self, client_cloud: str) -> pulumi.Output[str]:
        """The one SASL listener every client uses, wherever it runs."""
        return pulumi.Output.from_input(self._bootstrap)


def realize_cluster(ctx: Context, planned: Cluster, network: Network) -> SelfManagedCluster:
    expect(network, SelfManagedNetwork, f"cluster {planned.key}")
    sm = settings(ctx, planned.region)
    return SelfManagedCluster(
        planned.name,
        SelfManagedClusterArgs(
            bootstrap=sm.bootstrap,
            mechanism=sm.mechanism,
            provider=ctx.provider(planned.region),
            logins=ctx.plan.logins(planned.key),
            acls=kafka_acls.acls(ctx.plan)[planned.key],
            scram_rotation=ctx.plan.config.scram_rotation,
        ),
        pulumi.ResourceOptions(parent=ctx.parent),
    )


@dataclass(frozen=True)
class SelfManagedTopicsArgs:
    # Kafka topic name -> planned topic.
    topics: Mapping[str, Topic]
    # The region's administrator provider.
    provider: pulumi.ProviderResource
    # Pulumi `protect` on every topic.
    protect: bool = True


class SelfManagedTopics(pulumi.ComponentResource):
    """`kafka.Topic` per planned topic, made through the brokers.

    Every topic is `retain_on_delete`, as on the clouds: a topic the plan no
    longer holds leaves Pulumi's state but stays in Kafka with its data; with
    `protect`, a change that would drop it stops instead, naming it.
    """

    TYPE = "multicloud-kafka:kafka:SelfManagedTopics"

    def __init__(self, name: str, args: SelfManagedTopicsArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, provider=args.provider, protect=args.protect, retain_on_delete=True)
        self.topics: dict[str, kafka.Topic] = {
            topic.name: kafka.Topic(
                f"{name}-{topic.name}",
                name=topic.name,
                partitions=topic.settings.partitions,
                replication_factor=topic.settings.replication_factor,
                config=topic.settings.kafka_config(),
                opts=keep,
            )
            for topic in args.topics.values()
        }
        self.register_outputs({"topics": sorted(self.topics)})


def realize_topics(
    ctx: Context, planned: Cluster, realized: KafkaCluster, topics: Mapping[str, Topic]
) -> SelfManagedTopics:
    cluster = expect(realized, SelfManagedCluster, f"topics of {planned.key}")
    return SelfManagedTopics(
        f"{planned.name}-topics",
        SelfManagedTopicsArgs(topics=topics, provider=ctx.provider(planned.region), protect=ctx.protect),
        pulumi.ResourceOptions(parent=ctx.parent, depends_on=[cluster]),
    )


@dataclass(frozen=True)
class SelfManagedAccess:
    """Region key -> the SCRAM login its services use on their own self-managed cluster."""

    logins: Mapping[str, tuple[str, pulumi.Output[str]]]

    @property
    def outputs(self) -> Mapping[str, Any]:
        return {
            region: {"scramLogin": {"username": user, "password": password}}
            for region, (user, password) in self.logins.items()
        }


def realize_access(ctx: Context, sites: Mapping[str, Site]) -> SelfManagedAccess | None:
    """Exports each self-managed region's services' login there (its password a secret); the logins and
    their ACLs themselves are the cluster's (SelfManagedCluster)."""
    logins: dict[str, tuple[str, pulumi.Output[str]]] = {}
    for key, site in sites.items():
        if not geo.is_self_managed(site.plan.region):
            continue
        cluster = expect(site.cluster, SelfManagedCluster, f"access to {key}")
        services = ctx.plan.principals.get(access.services_key(site.plan.region.key))
        grant = services.grants.get(key) if services is not None else None
        if grant is not None and grant.login is not None:
            logins[site.plan.region.key] = (grant.login, cluster.scram_passwords[grant.login])
    return SelfManagedAccess(logins) if logins else None


@dataclass(frozen=True)
class OperatorMirrorArgs:
    # The Connect worker's settings (infra.selfmanaged.operator_worker).
    worker: Mapping[str, str]
    # Connector name -> its settings, addresses filled in.
    connectors: Mapping[str, Mapping[str, pulumi.Input[str]]]
    # Environment variable -> the password it must hold (secrets).
    environment: Mapping[str, pulumi.Output[str]]


class OperatorMirror(pulumi.ComponentResource):
    """What the operator runs for one flow into a self-managed cluster: MirrorMaker 2's Connect worker and connectors.

    No cloud resource: neither MSK Connect nor Managed Kafka Connect is sure
    to reach a cluster outside its cloud, and none runs in the operator's
    network (docs/adr/0009-self-managed-kafka-is-never-a-hub.md). The
    configuration names each password as `${env:...}`; `environment` holds
    the values, secret in the state and the stack outputs.
    """

    TYPE = "multicloud-kafka:kafka:OperatorMirror"

    def __init__(self, name: str, args: OperatorMirrorArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        self.handover: dict[str, Any] = {
            "worker": dict(args.worker),
            "connectors": {k: dict(v) for k, v in args.connectors.items()},
            "environment": dict(args.environment),
        }
        self.register_outputs(self.handover)


def _source(ctx: Context, flow: MirrorFlow, site: Site) -> tuple[mirrormaker.Endpoint, str, pulumi.Output[str]]:
    """The hub as the flow logs in to it from the self-managed region: (endpoint, password variable, password).

    As from the other cloud (infra/components/crosscloud/endpoints.py): a
    SCRAM user on MSK, a service account's key on Managed Kafka.
    """
    login = ctx.plan.principals[access.mirror_key(flow.key)].grants[flow.source].login
    if login is None:
        raise ValueError(f"mirror flow {flow.key}: no login on {flow.source}, which the operator's MirrorMaker 2 needs")
    variable = selfmanaged.password_env(flow.source, login)
    what = f"source of {flow.key}"
    client: dict[str, pulumi.Input[str]]
    if site.plan.region.cloud == geo.AWS:
        password = expect(site.cluster, MskCluster, what).scram_passwords[login]
        client = dict(selfmanaged.scram_client(ScramMechanism.SHA_512, True, login, variable))
    else:
        sasl = expect(site.cluster, ManagedKafkaCluster, what).logins[login]
        password = sasl.password
        client = {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.jaas.config": pulumi.Output.format(
                'org.apache.kafka.common.security.plain.PlainLoginModule required username="{0}" password="{1}";',
                sasl.username,
                selfmanaged.env_reference(variable),
            ),
        }
    bootstrap = site.cluster.bootstrap(geo.SELF_MANAGED)
    return mirrormaker.Endpoint(mirrormaker.alias(flow.source), bootstrap, client), variable, password


def realize_mirror(ctx: Context, flow: MirrorFlow, source: Site, target: Site) -> OperatorMirror:
    """The worker and connectors of a flow into a self-managed cluster, for the operator to run."""
    cluster = expect(target.cluster, SelfManagedCluster, f"target of {flow.key}")
    sm = settings(ctx, target.plan.region)
    src, src_variable, src_password = _source(ctx, flow, source)
    login = access.mirror_login(flow)
    dst_variable = selfmanaged.password_env(flow.target, login)
    dst = mirrormaker.Endpoint(
        mirrormaker.alias(flow.target),
        cluster.bootstrap(geo.SELF_MANAGED),
        selfmanaged.cluster_client(sm, flow.target, login),
    )
    return OperatorMirror(
        ctx.plan.flow_name(flow),
        OperatorMirrorArgs(
            worker=selfmanaged.operator_worker(ctx.plan, flow.target),
            connectors=mirrormaker.connector_configs(
                flow, src, dst, internal_replication_factor=selfmanaged.internal_replication(ctx.plan, flow.target)
            ),
            environment={src_variable: src_password, dst_variable: cluster.scram_passwords[login]},
        ),
        # The configuration is whole once the logins, their ACLs and the topics it copies into exist.
        pulumi.ResourceOptions(parent=ctx.parent, depends_on=[cluster, *target.topics.topics.values()]),
    )
