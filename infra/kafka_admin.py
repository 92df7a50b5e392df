"""`multicloud-kafka:kafkaAdmin`: how `pulumi up` reaches the brokers whose ACLs it manages. Pure.

MSK has no control-plane ACL API, so the Kafka ACLs of the SCRAM logins on an
MSK cluster are made through the brokers themselves, with pulumi-kafka, while
the stack deploys. The brokers are private (no public access), so the
deployer must run where they can be reached. The stack says where, and
`problems` checks it against the plan before anything is registered:

    multicloud-kafka:kafkaAdmin:
      from: in-network            # the deployer runs inside a planned region's network
      region: aws/us-east-1       # which one (default: the hub)
      roleArn: arn:aws:iam::123456789012:role/kafka-admin   # optional

pulumi-kafka logs in to MSK with IAM (SASL/AWS_MSK_IAM over TLS, port 9098)
as the deploying credentials, or the role `roleArn` names. docs/aws.md
"Kafka ACLs on MSK" says why IAM, and what the runner needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.kinds import AdminPath
from infra.validation import Checker, k

if TYPE_CHECKING:
    from infra.plan import Plan

KEY = "kafkaAdmin"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


@dataclass(frozen=True)
class KafkaAdmin:
    """Where the deployer runs when pulumi-kafka manages a cluster's ACLs."""

    source: AdminPath
    # The planned region whose network the deployer runs in; None: the hub's.
    region: str | None = None
    # The IAM role pulumi-kafka assumes for the Kafka admin API; None: the deploying credentials.
    role_arn: str | None = None


def _k(*parts: str) -> str:
    return ".".join((k(KEY), *parts))


def parse(c: Checker, value: Any) -> KafkaAdmin | None:
    """The key's settings, or None when it is not set (or wrong: the problems are in `c`)."""
    if value is None:
        return None
    m = c.mapping(k(KEY), value, "settings, for example {from: in-network}")
    if m is None:
        return None
    known = ("from", "region", "roleArn")
    for extra in sorted(set(m) - set(known), key=str):
        c.add(_k(str(extra)), m[extra], f"is not a setting of {k(KEY)}; known: {', '.join(known)}")
    source = m.get("from")
    if source not in tuple(AdminPath):
        c.add(
            _k("from"),
            source,
            f"must be one of {', '.join(AdminPath)}: where `pulumi up` runs so that pulumi-kafka reaches the "
            "brokers (in-network: a runner inside a planned region's network; see docs/aws.md)",
        )
    region = m.get("region")
    if region is not None and not isinstance(region, str):
        c.add(_k("region"), region, f"must be a key of {k('regions')}, for example aws/us-east-1")
        region = None
    role = m.get("roleArn")
    if role is not None and (not isinstance(role, str) or not ROLE_ARN.match(role)):
        c.add(_k("roleArn"), role, "must be an IAM role ARN, for example arn:aws:iam::123456789012:role/kafka-admin")
        role = None
    if source not in tuple(AdminPath):
        return None
    return KafkaAdmin(AdminPath(source), region, role)


def check_against_stack(c: Checker, admin: KafkaAdmin, regions: Mapping[str, Any]) -> None:
    if admin.region is not None and admin.region not in regions:
        c.add(_k("region"), admin.region, f"must be one of the keys of {k('regions')} ({', '.join(regions)})")


def runner_region(plan: Plan, admin: KafkaAdmin) -> str:
    """The region key whose network the deployer runs in."""
    return admin.region or plan.config.hub.key


def problems(plan: Plan, clusters: Iterable[str]) -> list[str]:
    """Why pulumi-kafka could not reach `clusters` (keys whose ACLs it manages) as the stack says; [] if it can.

    In a region's network the deployer reaches the clusters of that region
    and, over their link, of the region at the other end of a planned link
    (hub and spoke; links are not transitive).
    """
    keys = sorted(clusters)
    if not keys:
        return []
    admin = plan.config.kafka_admin
    if admin is None:
        return [
            f"cluster{'s' if len(keys) > 1 else ''} {', '.join(keys)}: the Kafka ACLs of the SCRAM logins are made "
            f"through the brokers with pulumi-kafka while the stack deploys, and {k(KEY)} is not set: set it to "
            f"{{from: in-network}} and run `pulumi up` inside the hub's network ({plan.config.hub.key}), "
            "or name another planned region with `region` (docs/aws.md, Kafka ACLs on MSK)"
        ]
    runner = runner_region(plan, admin)
    linked = {runner} | {
        end for link in plan.links.values() if runner in (link.hub, link.spoke) for end in (link.hub, link.spoke)
    }
    return [
        f"cluster {key}: {_k('region')} is {runner}, whose network does not reach {plan.clusters[key].region.key} "
        f"(no planned link between them): run the deploy in {plan.clusters[key].region.key} or a region linked "
        "to it, and set region to it"
        for key in keys
        if plan.clusters[key].region.key not in linked
    ]
