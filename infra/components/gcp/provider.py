"""Explicit GCP providers: one per planned region, one for global resources.

Both wait for the Google APIs the stack calls (`GcpApis`): every GCP
resource is registered with one of them, so on a fresh project nothing
calls an API before it is enabled.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_gcp as gcp

from infra import naming
from infra.components.base import Context
from infra.config import Config
from infra.geo import Region

# The Google APIs the stack's GCP resources call, and what calls each.
APIS = {
    "cloudkms.googleapis.com": "the customer-managed keys of the Managed Kafka clusters",
    "cloudresourcemanager.googleapis.com": "project IAM bindings of the clients' service accounts, the project number",
    "compute.googleapis.com": "the VPC, subnets, firewalls, HA VPN gateways, Cloud Routers, tunnels",
    "dns.googleapis.com": "the inbound DNS policy and the forwarding of broker names",
    "iam.googleapis.com": "service accounts and their keys (SASL/PLAIN logins from AWS)",
    "managedkafka.googleapis.com": "Managed Kafka clusters, topics, Connect clusters and connectors",
}
# Called only by the regional API's GCP entry points.
API_ENTRY_POINT_APIS = {"certificatemanager.googleapis.com": "the regional API's certificates and DNS authorizations"}


def apis(cfg: Config) -> dict[str, str]:
    """The APIs a stack with this config calls: service name -> what calls it."""
    return {**APIS, **(API_ENTRY_POINT_APIS if cfg.api is not None else {})}


class GcpApis(pulumi.ComponentResource):
    """`gcp.projects.Service` per API the stack calls, through a provider of its own.

    Never disabled on destroy: other workloads of the project may call the
    same APIs, and a disabled API would stop them.
    """

    TYPE = "multicloud-kafka:gcp:Apis"

    def __init__(self, name: str, project: str, services: dict[str, str], opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        provider = gcp.Provider(name, project=project, opts=pulumi.ResourceOptions(parent=self))
        self.services = {
            service: gcp.projects.Service(
                f"{name}-{service.split('.')[0]}",
                project=project,
                service=service,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            for service in sorted(services)
        }
        self.register_outputs({"services": sorted(services)})


def enabled_apis(ctx: Context) -> GcpApis:
    """The stack's one GcpApis component."""
    cfg = ctx.plan.config
    return ctx.once(
        "gcp-apis",
        lambda: GcpApis(
            f"{ctx.prefix}-gcp-apis", ctx.gcp_project, apis(cfg), pulumi.ResourceOptions(parent=ctx.parent)
        ),
    )


def _label(value: str) -> str:
    """GCP label values: lower-case letters, digits, '-' and '_', 63 at most."""
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


def _labels(ctx: Context) -> dict[str, str]:
    return {"project": "multicloud-kafka", "stack": _label(ctx.plan.config.stack)}


def realize_provider(ctx: Context, region: Region) -> gcp.Provider:
    """The provider of every regional resource of `region`."""
    return gcp.Provider(
        naming.resource_name(ctx.prefix, region),
        project=ctx.gcp_project,
        region=region.name,
        default_labels={**_labels(ctx), "region": naming.region_slug(region)},
        opts=pulumi.ResourceOptions(parent=ctx.parent, depends_on=[enabled_apis(ctx)]),
    )


def global_provider(ctx: Context) -> gcp.Provider:
    """The provider of the project's global resources (VPC, firewall, DNS, IAM).

    Not tied to any region, so adding or dropping a region never moves them
    to another provider.
    """
    return gcp.Provider(
        f"{ctx.prefix}-gcp",
        project=ctx.gcp_project,
        default_labels=_labels(ctx),
        opts=pulumi.ResourceOptions(parent=ctx.parent, depends_on=[enabled_apis(ctx)]),
    )
