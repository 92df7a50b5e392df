"""The API of a stack: one entry point per served region, one global name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import geo, naming
from infra.api.plan import ApiPlan, Endpoint
from infra.components.api import dns
from infra.components.api.aws import AwsEntryPoint, AwsEntryPointArgs
from infra.components.api.gcp import GcpEntryPoint, GcpEntryPointArgs

# Route 53 is global; its API lives in us-east-1.
DNS_REGION = "us-east-1"


def _aws_entry_point(
    name: str, plan: ApiPlan, endpoint: Endpoint, network: Any, zone: dns.Zone, parent: pulumi.Resource
) -> AwsEntryPoint:
    # The AwsNetwork component was given its region's provider; its children share it.
    provider = network.get_provider("aws::")
    if provider is None:
        raise ValueError(f"the AWS network of {endpoint.region.key} has no explicit provider to build its API with")
    return AwsEntryPoint(
        name, AwsEntryPointArgs(plan, endpoint, network, zone), pulumi.ResourceOptions(parent=parent, provider=provider)
    )


def _gcp_entry_point(
    name: str, plan: ApiPlan, endpoint: Endpoint, network: Any, zone: dns.Zone, parent: pulumi.Resource
) -> GcpEntryPoint:
    return GcpEntryPoint(
        name,
        GcpEntryPointArgs(plan, endpoint, network, zone),
        pulumi.ResourceOptions(parent=parent, provider=network.provider),
    )


# cloud -> the entry point of one region of that cloud.
ENTRY_POINTS: Mapping[str, Callable[..., AwsEntryPoint | GcpEntryPoint]] = {
    geo.AWS: _aws_entry_point,
    geo.GCP: _gcp_entry_point,
}


class RegionalApi(pulumi.ComponentResource):
    """Every served region's entry point, and the global name over them.

    It reads the regional networks the realization built (`networks`:
    region key -> that cloud's network) and is meant to be a child of the
    architecture component, like everything else the stack builds: that
    component aliases the other architectures' types, so switching the
    architecture keeps the API's URNs, and nothing of the API depends on
    how Kafka is laid out.
    """

    TYPE = "multicloud-kafka:api:RegionalApi"

    def __init__(
        self,
        prefix: str,
        plan: ApiPlan,
        networks: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ):
        name = f"{prefix}-api"
        super().__init__(self.TYPE, name, None, opts)
        self.dns_provider = aws.Provider(
            f"{name}-dns",
            region=DNS_REGION,
            default_tags=aws.ProviderDefaultTagsArgs(tags={"project": "multicloud-kafka", "stack": pulumi.get_stack()}),
            opts=pulumi.ResourceOptions(parent=self),
        )
        if plan.zone_id:
            zone_id = pulumi.Output.from_input(plan.zone_id)
        else:
            zone_id = aws.route53.get_zone_output(
                name=plan.zone,
                private_zone=False,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=self.dns_provider),
            ).zone_id
        zone = dns.Zone(zone_id, self.dns_provider, self, prefix)
        self.entry_points = {
            key: ENTRY_POINTS[endpoint.region.cloud](
                naming.resource_name(prefix, endpoint.region, "api"), plan, endpoint, networks[key], zone, self
            )
            for key, endpoint in plan.endpoints.items()
        }
        summary = plan.to_dict()
        self.outputs: pulumi.Output[dict[str, Any]] = pulumi.Output.from_input(
            {
                **summary,
                "regions": {key: {**summary["regions"][key], **e.outputs} for key, e in self.entry_points.items()},
            }
        )
        self.register_outputs({"api": self.outputs})
