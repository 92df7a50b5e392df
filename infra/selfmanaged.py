"""What a self-managed region asks of its operator: pure, no Pulumi.

A self-managed region's Kafka cluster already runs (on-premises, or on
another platform) and the stack reaches it as an administrator through its
brokers (pulumi-kafka). The stack makes no network there and no link to it,
so two things are the operator's, and the plan says exactly what they are:

- `openings`: the TCP paths the operator's network (VPN, interconnect,
  firewalls) must let through: the region's principals to the hub clusters
  they use, and the deployer to the region's brokers.
- `operator_worker`: MirrorMaker 2 into the region's cluster
  (regional-clusters), which no managed service of either cloud is sure to
  reach, runs on the operator's machines next to the cluster. The stack
  renders its Connect worker configuration (here) and its connectors
  (`infra.mirrormaker.connector_configs`, filled with the realized
  addresses); passwords in them are `${env:...}` references, resolved by
  Kafka's EnvVarConfigProvider (Kafka 3.5 or later) from the environment
  the operator gives the worker (docs/adr/0009-self-managed-kafka-is-never-a-hub.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra import access, geo, mirrormaker, naming
from infra.config import SelfManagedCluster
from infra.kafka_acls import worker_login
from infra.kinds import Auth
from infra.plan import Plan

# The listener a login from outside the cluster's cloud uses (infra/network.py KAFKA_PORTS).
CLOUD_PORT = {(geo.AWS, Auth.SCRAM): 9096, (geo.GCP, Auth.GCP_KEY): 9092}
ENV_PROVIDER = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
# The deployer: where `pulumi up` runs (multicloud-kafka:kafkaAdmin, or wherever the operator runs it).
DEPLOYER = "pulumi up"


@dataclass(frozen=True)
class Opening:
    """TCP from `source` (a CIDR, or the deployer) to `destination` on `ports`, for `why`."""

    region: str
    source: str
    destination: str
    ports: tuple[int, ...]
    why: str


def ports(cluster: SelfManagedCluster) -> tuple[int, ...]:
    return tuple(sorted({int(address.rpartition(":")[2]) for address in cluster.bootstrap}))


def openings(plan: Plan) -> list[Opening]:
    """Every path a self-managed region needs and the stack does not make, by region then cluster."""
    cfg = plan.config
    out: list[Opening] = []
    admin = cfg.kafka_admin
    deployer = DEPLOYER if admin is None else f"{DEPLOYER} in {admin.region or cfg.hub.key}"
    for key, sm in cfg.self_managed.items():
        region = cfg.regions[key]
        needs: dict[str, set[str]] = {}
        for principal in plan.principals.values():
            if principal.home != key:
                continue
            for cluster in principal.grants:
                if not geo.is_self_managed(plan.clusters[cluster].region):
                    needs.setdefault(cluster, set()).add(principal.key)
        for cluster, who in sorted(needs.items()):
            target = plan.clusters[cluster]
            auth = access.AUTH[(target.region.cloud, geo.SELF_MANAGED)]
            why = f"{', '.join(sorted(who))} log in to {cluster} ({auth})"
            if target.region.cloud == geo.GCP and cfg.gcp_project is not None:
                domain = naming.managed_kafka_domain(cfg.gcp_project, target.region.name)
                why += f"; the region's resolvers forward {domain} to Cloud DNS in {target.region.key}"
            out.append(
                Opening(
                    key,
                    str(region.cidr),
                    f"{cluster} {target.region.cidr}",
                    (CLOUD_PORT[(target.region.cloud, auth)],),
                    why,
                )
            )
        out.append(
            Opening(
                key,
                deployer,
                f"{key} brokers {' '.join(sm.bootstrap)}",
                ports(sm),
                f"pulumi-kafka makes the topics, logins and ACLs as {sm.admin_user} ({sm.mechanism})",
            )
        )
    return out


def password_env(cluster: str, login: str) -> str:
    """MCK_PASSWORD_AWS_US_EAST_1_MIRROR_...: the environment variable holding `login`'s password on `cluster`.

    Named by both, since a flow logs in to its source and its target under one name with two passwords.
    """
    return "MCK_PASSWORD_" + re.sub(r"[^A-Z0-9]+", "_", f"{cluster}_{login}".upper()).strip("_")


def env_reference(variable: str) -> str:
    """${env:MCK_PASSWORD_...}: how a worker or connector setting names a password it must not hold."""
    return "${env:" + variable + "}"


def scram_client(mechanism: str, tls: bool, login: str, variable: str, ca_cert: str | None = None) -> dict[str, str]:
    """Kafka client settings of a SCRAM login whose password is environment variable `variable` of the worker.

    With `ca_cert`, the client trusts that CA (PEM truststore, Kafka 2.7 or later) instead of the JVM's.
    """
    out = {
        "security.protocol": "SASL_SSL" if tls else "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{login}" password="{env_reference(variable)}";',
    }
    if ca_cert is not None:
        out |= {"ssl.truststore.type": "PEM", "ssl.truststore.certificates": ca_cert}
    return out


def cluster_client(sm: SelfManagedCluster, target: str, login: str) -> dict[str, str]:
    """How `login` reaches self-managed cluster `target`, its password by reference."""
    return scram_client(sm.mechanism, sm.tls, login, password_env(target, login), sm.ca_cert)


def internal_replication(plan: Plan, target: str) -> int:
    """The replication of MirrorMaker 2's internal topics on self-managed cluster `target`: its planned topics'.

    The stack cannot know how many brokers the cluster has; its planned topics
    say what replication the operator's cluster was configured to accept.
    """
    return max((t.settings.replication_factor for t in plan.topics.get(target, {}).values()), default=3)


def operator_worker(plan: Plan, target: str) -> dict[str, str]:
    """The Connect worker (distributed mode) that runs the flows into self-managed cluster `target`.

    It runs next to its cluster and stores its state there, as the flows'
    own login (`kafka_acls.worker_login`, whose ACLs cover the worker's group
    and topics).
    """
    sm = plan.config.self_managed[plan.clusters[target].region.key]
    logins = {access.mirror_key(f.key): access.mirror_login(f) for f in plan.mirrors.values() if f.target == target}
    login = worker_login(plan, target, logins)
    client = cluster_client(sm, target, login)
    rf = internal_replication(plan, target)
    return {
        "bootstrap.servers": ",".join(sm.bootstrap),
        "group.id": mirrormaker.worker_group(target),
        **mirrormaker.worker_topics(target),
        "config.storage.replication.factor": str(rf),
        "offset.storage.replication.factor": str(rf),
        "status.storage.replication.factor": str(rf),
        "key.converter": mirrormaker.BYTES,
        "value.converter": mirrormaker.BYTES,
        "header.converter": mirrormaker.BYTES,
        "config.providers": "env",
        "config.providers.env.class": ENV_PROVIDER,
        # The worker's own clients, then those of the connectors' producers, consumers and admin.
        **client,
        **{f"{side}.{k}": v for side in ("producer", "consumer", "admin") for k, v in client.items()},
    }
