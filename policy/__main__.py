"""The policy pack: `pulumi preview --policy-pack policy` from the project's root.

Each policy is a thin wrapper around a plain function of policy/rules.py,
which the tests run on every repo stack without the engine.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The rules read the clouds' limits from infra/aws_rules.py, the module the
# program plans with: the project's root goes on the path (standard library
# only below it, so the pack's own environment needs nothing else).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import rules

MANDATORY = EnforcementLevel.MANDATORY


def _region(provider: Any) -> str:
    props = getattr(provider, "props", None) or {}
    region = props.get("region", "")
    return region if isinstance(region, str) else ""


def resource_of(args: ResourceValidationArgs) -> rules.Resource:
    return rules.Resource(
        type=args.resource_type,
        props=args.props,
        name=args.name,
        urn=args.urn,
        protect=bool(args.opts.protect),
        region=_region(args.provider),
        provider_urn=getattr(args.provider, "urn", "") or "",
    )


def stack_of(args: StackValidationArgs) -> list[rules.Resource]:
    return [
        rules.Resource(
            type=r.resource_type,
            props=r.props,
            name=r.name,
            urn=r.urn,
            protect=bool(r.opts.protect),
            region=_region(r.provider),
            provider_urn=getattr(r.provider, "urn", "") or "",
            dependencies=tuple(d.urn for d in r.dependencies),
        )
        for r in args.resources
    ]


def resource_policy(name: str, description: str, rule: rules.ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in rule(resource_of(args)):
            report(message, None)

    return ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=MANDATORY)


def stack_policy(name: str, description: str, rule: rules.StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for urn, message in rule(stack_of(args)):
            report(message, urn)

    return StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=MANDATORY)


def _protect(args: ResourceValidationArgs, report: ReportViolation) -> None:
    allow = bool(args.get_config().get("allowUnprotected", False))
    for message in rules.protected(resource_of(args), allow):
        report(message, None)


PROTECT = ResourceValidationPolicy(
    name="protect-data",
    description="Kafka clusters and topics carry Pulumi protect.",
    validate=_protect,
    enforcement_level=MANDATORY,
    config_schema=PolicyConfigSchema(properties={"allowUnprotected": {"type": "boolean", "default": False}}),
)


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    """Every policy of the pack, in the order of docs/policy-pack.md."""
    return [
        resource_policy("encryption-customer-keys-and-tls", rules.encryption.__doc__ or "", rules.encryption),
        resource_policy("no-public-access", rules.public_access.__doc__ or "", rules.public_access),
        stack_policy("buckets-block-public-access", rules.buckets_blocked.__doc__ or "", rules.buckets_blocked),
        stack_policy(
            "planned-ranges-only",
            "Security groups and firewalls admit only the stack's planned ranges.",
            rules.network_ranges,
        ),
        resource_policy("kafka-authentication", rules.kafka_auth.__doc__ or "", rules.kafka_auth),
        resource_policy(
            "connector-logins-by-reference", rules.logins_by_reference.__doc__ or "", rules.logins_by_reference
        ),
        PROTECT,
        resource_policy("msk-topic-api", rules.topic_api.__doc__ or "", rules.topic_api),
        resource_policy("aws-zones", rules.zones.__doc__ or "", rules.zones),
        stack_policy(
            "replicator-prerequisites",
            "MSK Replicator's documented prerequisites on both clusters.",
            rules.replicator_prerequisites,
        ),
        stack_policy(
            "connector-waits-for-vpn",
            "Cross-cloud MirrorMaker 2 connectors wait for the HA VPN.",
            rules.connector_dependencies,
        ),
        stack_policy("gcp-apis-enabled", "GCP resources wait for the Google APIs they call.", rules.gcp_apis),
        stack_policy(
            "flow-logs", "Every VPC and every GCP subnet but proxy-only ones log their flows.", rules.flow_logs
        ),
        stack_policy(
            "default-security-groups-closed", rules.default_security_groups.__doc__ or "", rules.default_security_groups
        ),
        stack_policy("no-unused-security-groups", rules.security_groups_used.__doc__ or "", rules.security_groups_used),
        stack_policy("api-routes-authorized", rules.api_routes_authorized.__doc__ or "", rules.api_routes_authorized),
        resource_policy("kms-key-policies", rules.key_policies.__doc__ or "", rules.key_policies),
        resource_policy("log-groups-encrypted", rules.log_groups.__doc__ or "", rules.log_groups),
        stack_policy(
            "buckets-versioned-encrypted-logged", rules.buckets_hardened.__doc__ or "", rules.buckets_hardened
        ),
    ]


if __name__ == "__main__":
    PolicyPack(name="multicloud-kafka", enforcement_level=MANDATORY, policies=list(policies()))
