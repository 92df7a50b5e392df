"""The Kafka ACLs of one cluster, made through its brokers with pulumi-kafka."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kafka as kafka

from infra import kafka_acls
from infra.kafka_acls import Acl

# pulumi-kafka's spelling of each kind (its Acl docs: "Topic", "Read", "Prefixed", "Allow").
RESOURCE_TYPES = {kafka_acls.ResourceType.TOPIC: "Topic", kafka_acls.ResourceType.GROUP: "Group"}
PATTERNS = {kafka_acls.Pattern.LITERAL: "Literal", kafka_acls.Pattern.PREFIXED: "Prefixed"}
OPERATIONS = {
    kafka_acls.Operation.READ: "Read",
    kafka_acls.Operation.WRITE: "Write",
    kafka_acls.Operation.CREATE: "Create",
    kafka_acls.Operation.DESCRIBE: "Describe",
    kafka_acls.Operation.DESCRIBE_CONFIGS: "DescribeConfigs",
}
ALLOW = "Allow"


def entry_name(cluster: str, acl: Acl) -> str:
    """The Pulumi name of one entry: stable, and unique per (login, resource, pattern, name, operation)."""
    return f"{cluster}-acl-{acl.login}-{acl.resource}-{acl.pattern}-{acl.name}-{acl.operation}"


@dataclass(frozen=True)
class KafkaAclsArgs:
    # The entries, from `infra.kafka_acls.acls` for this cluster.
    entries: Sequence[Acl]
    # The pulumi-kafka provider that reaches this cluster's brokers as an administrator.
    provider: pulumi.ProviderResource


class KafkaAcls(pulumi.ComponentResource):
    """One `kafka.Acl` per entry, each an ALLOW from any host.

    The cluster runs with `allow.everyone.if.no.acl.found=false`, so what no
    entry allows is refused. Entries are keyed by everything that makes them
    one ACL, so adding a grant never renames or replaces another; pulumi-kafka
    replaces an ACL whose properties change, which here is a new entry and a
    deleted one.
    """

    TYPE = "multicloud-kafka:kafka:KafkaAcls"

    def __init__(self, name: str, args: KafkaAclsArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.acls = {
            entry_name(name, a): kafka.Acl(
                entry_name(name, a),
                acl_principal=a.principal,
                acl_host=kafka_acls.HOST,
                acl_operation=OPERATIONS[a.operation],
                acl_permission_type=ALLOW,
                acl_resource_type=RESOURCE_TYPES[a.resource],
                acl_resource_name=a.name,
                resource_pattern_type_filter=PATTERNS[a.pattern],
                opts=child,
            )
            for a in sorted(set(args.entries))
        }
        self.register_outputs({"count": len(self.acls)})
