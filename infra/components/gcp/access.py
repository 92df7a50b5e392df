"""Who may do what on each Managed Kafka cluster: Kafka ACLs from the plan, and nothing project-wide.

Managed Kafka checks two things ("Access control with IAM and Kafka ACLs",
Managed Service for Apache Kafka docs): IAM decides who may open a
connection (`managedkafka.clusters.connect`), Kafka ACLs in the cluster's
StandardAuthorizer decide what a connected principal may do. So every GCP
principal of the stack holds a custom role with that one permission and no
other (not `roles/managedkafka.client`, which also lets a principal attach
Connect clusters and read schemas), and each cluster gets one
`gcp.managedkafka.Acl` per resource pattern its grants cover
(infra/cloud_grants.py). The principals, as the authorizer sees them
(`User:<service account email>`):

| principal | identity |
|---|---|
| a GCP region's services | the region's services service account, made here and exported (`access.<region>.serviceAccount`) |
| a mirror flow into GCP (Managed Kafka Connect) | the Managed Kafka service agent, which runs Connect clusters' connectors |
| an AWS principal (services, or MirrorMaker 2 on MSK Connect) | its login's service account (ManagedKafkaCluster.logins) |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra import access, cloud_grants, geo, naming
from infra.components.base import Context, Site, expect
from infra.components.gcp.managed_kafka import ACCOUNT_ID_MAX, ManagedKafkaCluster, service_agent_email
from infra.components.gcp.network import GcpRegionNetwork
from infra.kinds import Auth, PrincipalKind
from infra.plan import Plan

# The one permission a Kafka client needs from IAM ("Configure SASL authentication").
CONNECT_PERMISSION = "managedkafka.clusters.connect"
# Custom role IDs: letters, digits, '_' and '.', 3 to 64 characters.
ROLE_ID_MAX = 64
# Managed Kafka requires host "*" in every entry (`gcp.managedkafka.Acl`, acl_entries.host).
ANY_HOST = "*"


def role_id(prefix: str) -> str:
    """mck_prod.kafkaConnect: the stack's connect-only custom role."""
    return re.sub(r"[^a-zA-Z0-9_.]", "_", f"{prefix}.kafkaConnect")[:ROLE_ID_MAX]


def acl_resource_name(cluster: str, acl_id: str) -> str:
    """mck-gcp-europe-west1-acl-topic-orders: a Pulumi name per ACL ID of a cluster."""
    return f"{cluster}-acl-{re.sub(r'[^A-Za-z0-9_.-]+', '-', acl_id)}"


def services_account_id(prefix: str, region_key: str) -> str:
    return naming.hashed(f"{prefix}-svc", f"{prefix}|{region_key}", ACCOUNT_ID_MAX)


@dataclass(frozen=True)
class GcpAccessArgs:
    project: str
    plan: Plan
    # Cluster key -> the realized Managed Kafka cluster (its ID, region and logins).
    clusters: Mapping[str, ManagedKafkaCluster]
    # GCP region key -> the provider of that region.
    providers: Mapping[str, pulumi.ProviderResource]


class GcpAccess(pulumi.ComponentResource):
    """The stack's connect-only role, the GCP services' accounts, and every cluster's ACLs."""

    TYPE = "multicloud-kafka:gcp:Access"

    def __init__(self, name: str, args: GcpAccessArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan = args.plan
        self.role = gcp.projects.IAMCustomRole(
            f"{name}-connect",
            project=args.project,
            role_id=role_id(plan.config.name_prefix),
            title="Kafka connect only",
            description="Open a Kafka connection to a Managed Kafka cluster; Kafka ACLs decide the rest",
            permissions=[CONNECT_PERMISSION],
            opts=child,
        )
        self.services: dict[str, gcp.serviceaccount.Account] = {}
        for region_key, region in plan.config.regions.items():
            services = plan.principals.get(access.services_key(region_key))
            if services and any(g.auth == Auth.GCP_IAM for g in services.grants.values()):
                self.services[region_key] = gcp.serviceaccount.Account(
                    f"{name}-{naming.region_slug(region)}-services",
                    account_id=services_account_id(plan.config.name_prefix, region_key),
                    project=args.project,
                    display_name=f"Kafka services of {region_key}",
                    description=f"The Kafka identity of the services of {region_key}: their topics and groups only",
                    opts=child,
                )
        members: dict[str, pulumi.Output[str]] = {
            f"services-{naming.region_slug(plan.config.regions[k])}": a.member for k, a in self.services.items()
        }
        for cluster in args.clusters.values():
            for login, sasl in cluster.logins.items():
                members[f"{cluster.cluster_name}-{login}"] = sasl.member
        self.bindings = [
            gcp.projects.IAMMember(
                f"{name}-connect-{key}", project=args.project, role=self.role.name, member=member, opts=child
            )
            for key, member in sorted(members.items())
        ]
        agent = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number.apply(service_agent_email)
        # cluster key -> its ACLs, which a mirror flow's connectors wait for.
        self.acls: dict[str, list[gcp.managedkafka.Acl]] = {}
        for key, cluster in args.clusters.items():
            who = self._principals(plan, key, cluster, agent)
            self.acls[key] = [
                gcp.managedkafka.Acl(
                    acl_resource_name(cluster.cluster_name, acl_id),
                    acl_id=acl_id,
                    cluster=cluster.cluster.cluster_id,
                    location=cluster.region.name,
                    project=args.project,
                    acl_entries=[
                        gcp.managedkafka.AclAclEntryArgs(
                            principal=who[e.principal].apply(lambda email: f"User:{email}"),
                            operation=e.operation,
                            permission_type="ALLOW",
                            host=ANY_HOST,
                        )
                        for e in entries
                    ],
                    opts=pulumi.ResourceOptions(parent=self, provider=args.providers[cluster.region.key]),
                )
                for acl_id, entries in cloud_grants.kafka_acls(plan, key).items()
            ]
        self.outputs: dict[str, Any] = {k: {"serviceAccount": a.email} for k, a in self.services.items()}
        self.register_outputs({"role": self.role.name, "services": {k: a.email for k, a in self.services.items()}})

    def _principals(
        self, plan: Plan, key: str, cluster: ManagedKafkaCluster, agent: pulumi.Output[str]
    ) -> dict[str, pulumi.Output[str]]:
        """Plan principal key -> the service account email it connects to cluster `key` as."""
        out: dict[str, pulumi.Output[str]] = {}
        for principal, grant in cloud_grants.principals_on(plan, key).items():
            kind = plan.principals[principal].kind
            if grant.login is not None:
                out[principal] = cluster.logins[grant.login].username
            elif kind == PrincipalKind.SERVICES:
                out[principal] = self.services[plan.principals[principal].home].email
            else:
                out[principal] = agent
        return out


def realize_access(ctx: Context, sites: Mapping[str, Site]) -> GcpAccess | None:
    """GcpAccess for every Managed Kafka cluster of the plan; None where the plan has none."""
    clusters = {
        k: expect(s.cluster, ManagedKafkaCluster, f"access to {k}")
        for k, s in sites.items()
        if s.plan.region.cloud == geo.GCP
    }
    if not clusters:
        return None
    networks = [expect(sites[k].network, GcpRegionNetwork, f"access to {k}") for k in clusters]
    gcp_regions = [r for r in ctx.plan.config.regions.values() if r.cloud == geo.GCP]
    made = GcpAccess(
        f"{ctx.prefix}-gcp-access",
        GcpAccessArgs(
            project=ctx.gcp_project,
            plan=ctx.plan,
            clusters=clusters,
            providers={r.key: ctx.provider(r) for r in gcp_regions},
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=networks[0].global_provider),
    )
    for key, acls in made.acls.items():
        ctx.grants.setdefault(key, []).extend(acls)
    return made
