"""The API's records in the user's Route 53 zone: validation, regional, global.

Route 53 serves every name, for both clouds: its latency records with
health checks are the one managed DNS routing that steers between
endpoints in two clouds by probing them over HTTPS from the internet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import naming
from infra.api.plan import ApiPlan, Endpoint

# Short TTLs on the names health checks steer, so a failed region drains fast.
LATENCY_TTL = 60
REGIONAL_TTL = 300
VALIDATION_TTL = 300
HEALTH_CHECK_INTERVAL = 30
HEALTH_CHECK_FAILURES = 3


@dataclass(frozen=True)
class Target:
    """What a name answers: an alias of an AWS endpoint, or an IPv4 address."""

    alias_name: pulumi.Input[str] | None = None
    alias_zone_id: pulumi.Input[str] | None = None
    address: pulumi.Input[str] | None = None

    def record_args(self, ttl: int) -> dict[str, Any]:
        if self.address is not None:
            return {"records": [self.address], "ttl": ttl}
        if self.alias_name is None or self.alias_zone_id is None:
            raise ValueError("a DNS target is an address or an alias (name and zone id)")
        return {
            "aliases": [
                aws.route53.RecordAliasArgs(
                    name=self.alias_name, zone_id=self.alias_zone_id, evaluate_target_health=False
                )
            ]
        }


@dataclass
class Zone:
    """The hosted zone, the provider of its records, and the shared validation records.

    Certificates for the same name in several regions of one cloud are
    validated by one and the same DNS record (ACM gives every region of an
    account the same CNAME for a name; Certificate Manager's per-project
    record likewise). So each (cloud, name) gets one record, owned by the
    API component rather than by a region: adding or dropping a region never
    deletes the record the other regions' certificates renew with.
    """

    zone_id: pulumi.Output[str]
    provider: pulumi.ProviderResource
    owner: pulumi.Resource
    prefix: str
    _validation: dict[tuple[str, str], aws.route53.Record] = field(default_factory=dict)

    def opts(self, parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=self.provider, **kwargs)

    def validation_record(
        self, cloud: str, domain: str, name: pulumi.Input[str], type_: pulumi.Input[str], value: pulumi.Input[str]
    ) -> aws.route53.Record:
        """The record proving control of `domain` to `cloud`'s CA; made by the first region asking."""
        key = (cloud, domain)
        if key not in self._validation:
            self._validation[key] = aws.route53.Record(
                f"{self.prefix}-api-{cloud}-validation-{domain.replace('.', '-')}",
                zone_id=self.zone_id,
                name=name,
                type=type_,
                records=[value],
                ttl=VALIDATION_TTL,
                opts=self.opts(self.owner),
            )
        return self._validation[key]


def endpoint_records(
    parent: pulumi.Resource, name: str, zone: Zone, plan: ApiPlan, endpoint: Endpoint, regional: Target, global_: Target
) -> aws.route53.HealthCheck:
    """The region's own name, its health check, and its latency record of the global name.

    The health check probes the region's own name over HTTPS (with SNI), so
    it passes only when the certificate, the entry point and the backend's
    health path all answer: a region is dropped from the global name as a
    whole.
    """
    aws.route53.Record(
        f"{name}-regional",
        zone_id=zone.zone_id,
        name=endpoint.hostname,
        type="A",
        **regional.record_args(REGIONAL_TTL),
        opts=zone.opts(parent),
    )
    check = aws.route53.HealthCheck(
        name,
        type="HTTPS",
        fqdn=endpoint.hostname,
        port=443,
        enable_sni=True,
        resource_path=plan.health_path,
        request_interval=HEALTH_CHECK_INTERVAL,
        failure_threshold=HEALTH_CHECK_FAILURES,
        tags={"Name": name},
        opts=zone.opts(parent),
    )
    aws.route53.Record(
        f"{name}-global",
        zone_id=zone.zone_id,
        name=plan.hostname,
        type="A",
        set_identifier=naming.region_slug(endpoint.region),
        latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=endpoint.latency_region)],
        health_check_id=check.id,
        **global_.record_args(LATENCY_TTL),
        opts=zone.opts(parent),
    )
    return check
