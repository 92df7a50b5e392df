"""pulumi-kafka's provider for an MSK cluster: IAM over TLS, as the deployer (docs/aws.md, Kafka ACLs on MSK).

MSK documents that Kafka ACLs have no effect on IAM identities, and that
`allow.everyone.if.no.acl.found` has no effect on them either ("IAM access
control", Amazon MSK Developer Guide): IAM policies authorize them. So the
provider logs in with IAM, where `kafka-cluster:AlterCluster` (Kafka's ALTER
on CLUSTER, which creating and deleting ACLs needs) comes from the
deployer's IAM policy, and it is never locked out by the ACLs it manages.
A SCRAM administrator could not be: MSK has no `super.users`, so with
`allow.everyone.if.no.acl.found=false` from the cluster's creation a SCRAM
login can do nothing until an ACL lets it, and only an IAM identity could
make that ACL.
"""

from __future__ import annotations

import pulumi
import pulumi_kafka as kafka

from infra import aws_rules
from infra.kafka_admin import KafkaAdmin

# pulumi-kafka's name of MSK's IAM mechanism (SASL/AWS_MSK_IAM).
AWS_IAM = "aws-iam"
# The protocol version pulumi-kafka speaks when the cluster's cannot be read; ACL patterns need 2.0.
DEFAULT_PROTOCOL = "2.7.0"


def protocol_version(msk_version: str) -> str:
    """'3.9.0' for MSK's '3.9.x': the Kafka protocol version pulumi-kafka speaks to the cluster."""
    version = aws_rules.kafka_version(msk_version)
    return ".".join(map(str, version)) if version else DEFAULT_PROTOCOL


def msk_admin(
    name: str,
    bootstrap_iam: pulumi.Output[str],
    region: str,
    kafka_version: str,
    admin: KafkaAdmin,
    opts: pulumi.ResourceOptions,
) -> kafka.Provider:
    """The provider that manages an MSK cluster through its IAM listeners (port 9098, TLS)."""
    return kafka.Provider(
        f"{name}-admin",
        bootstrap_servers=bootstrap_iam.apply(lambda s: sorted(s.split(","))),
        tls_enabled=True,
        sasl_mechanism=AWS_IAM,
        sasl_aws_region=region,
        sasl_aws_role_arn=admin.role_arn,
        kafka_version=protocol_version(kafka_version),
        opts=opts,
    )
