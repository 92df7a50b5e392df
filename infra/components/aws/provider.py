"""One explicit AWS provider per region: nothing here reads a global region."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.components.base import Context
from infra.geo import Region


def realize_provider(ctx: Context, region: Region) -> aws.Provider:
    """The provider every resource of `region` is registered with."""
    return aws.Provider(
        naming.resource_name(ctx.prefix, region),
        region=region.name,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={"project": "multicloud-kafka", "stack": ctx.plan.config.stack, "region": region.key}
        ),
        opts=pulumi.ResourceOptions(parent=ctx.parent),
    )
