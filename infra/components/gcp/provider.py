"""Explicit GCP providers: one per planned region, one for global resources."""

from __future__ import annotations

import re

import pulumi
import pulumi_gcp as gcp

from infra import naming
from infra.components.base import Context
from infra.geo import Region


def _label(value: str) -> str:
    """GCP label values: lower-case letters, digits, '-' and '_', 63 at most."""
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


def _labels(ctx: Context) -> dict[str, str]:
    return {"project": "multicloud-kafka", "stack": _label(ctx.plan.config.stack)}


def realize_provider(ctx: Context, region: Region) -> gcp.Provider:
    """The provider of every regional resource of `region`."""
    return gcp.Provider(
        naming.resource_name(ctx.prefix, region),
        project=ctx.plan.config.gcp_project,
        region=region.name,
        default_labels={**_labels(ctx), "region": naming.region_slug(region)},
        opts=pulumi.ResourceOptions(parent=ctx.parent),
    )


def global_provider(ctx: Context) -> gcp.Provider:
    """The provider of the project's global resources (VPC, firewall, DNS, IAM).

    Not tied to any region, so adding or dropping a region never moves them
    to another provider.
    """
    return gcp.Provider(
        f"{ctx.prefix}-gcp",
        project=ctx.plan.config.gcp_project,
        default_labels=_labels(ctx),
        opts=pulumi.ResourceOptions(parent=ctx.parent),
    )
