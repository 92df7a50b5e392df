"""The plan's grants in each cloud's own terms: MSK IAM policies and Managed Kafka ACLs. Pure, no Pulumi.

Every principal's `Grant` on a cluster (infra/access.py) says which topics it
may produce to and consume from and which consumer-group prefixes it may
use. On MSK an AWS principal is held to that by an IAM policy whose
resources are the cluster's topic and group ARNs; on Managed Kafka every
principal is held to it by Kafka ACLs (`gcp.managedkafka.Acl`), keyed by the
resource pattern they cover. Nothing here grants a wildcard topic.

MirrorMaker 2 needs a little more than its data topics on either side: its
own internal topics on the target, and the consumer groups whose offsets it
translates (the target region's services' groups). `mirror_extras` names
exactly those, per flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.kafka_acls import translated_groups
from infra.kinds import Auth, PrincipalKind
from infra.mirrormaker import checkpoints_topic
from infra.plan import Grant, Plan

# "Semantics of IAM authorization policy actions and resources" (Amazon MSK
# Developer Guide): every action needs Connect; ReadData needs DescribeTopic
# and AlterGroup; WriteData needs DescribeTopic; AlterGroup needs DescribeGroup.
# Kafka producers are idempotent by default (3.0+), which MSK authorizes as
# WriteDataIdempotently on the cluster.
CONNECT = "kafka-cluster:Connect"
WRITE_IDEMPOTENTLY = "kafka-cluster:WriteDataIdempotently"
PRODUCE_ACTIONS = ("kafka-cluster:DescribeTopic", "kafka-cluster:WriteData")
CONSUME_ACTIONS = ("kafka-cluster:DescribeTopic", "kafka-cluster:ReadData")
GROUP_ACTIONS = ("kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup")

# Kafka's authorizer: READ and WRITE on a topic imply DESCRIBE, READ on a
# group lets a member join it and commit offsets; since Kafka 3.0 (KIP-679)
# WRITE on any topic also allows the idempotent producer.
READ, WRITE, CREATE, DESCRIBE = "READ", "WRITE", "CREATE", "DESCRIBE"
# MirrorMaker 2's internal topics on the target (offset-syncs.topic.location=target).
OFFSET_SYNCS_PREFIX = "mm2-offset-syncs."


def msk_arn(cluster_arn: str, kind: str, name: str) -> str:
    """arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> -> ...:<kind>/<name>/<uuid>/<name>.

    The topic and group ARN forms of "Authorization policy resources" (Amazon
    MSK Developer Guide): the cluster's name and UUID, then the resource name,
    where a trailing `*` matches a prefix.
    """
    if ":cluster/" not in cluster_arn:
        raise ValueError(f"not an MSK cluster ARN: {cluster_arn!r}")
    return f"{cluster_arn.replace(':cluster/', f':{kind}/', 1)}/{name}"


def msk_statements(cluster_arn: str, grant: Grant, sid: str) -> list[dict[str, Any]]:
    """What one grant allows on one MSK cluster, and nothing more."""
    cluster_actions = [CONNECT, *([WRITE_IDEMPOTENTLY] if grant.produce else [])]
    statements: list[dict[str, Any]] = [
        {"Sid": f"{sid}Connect", "Effect": "Allow", "Action": cluster_actions, "Resource": [cluster_arn]}
    ]
    for what, actions, topics in (
        ("Produce", PRODUCE_ACTIONS, grant.produce),
        ("Consume", CONSUME_ACTIONS, grant.consume),
    ):
        if topics:
            statements.append(
                {
                    "Sid": f"{sid}{what}",
                    "Effect": "Allow",
                    "Action": list(actions),
                    "Resource": [msk_arn(cluster_arn, "topic", t) for t in topics],
                }
            )
    if grant.groups:
        statements.append(
            {
                "Sid": f"{sid}Groups",
                "Effect": "Allow",
                "Action": list(GROUP_ACTIONS),
                "Resource": [msk_arn(cluster_arn, "group", f"{g}*") for g in grant.groups],
            }
        )
    return statements


def msk_policy(grants: Sequence[tuple[str, Grant]]) -> dict[str, Any]:
    """An IAM policy document for one principal: (cluster ARN, grant) per MSK cluster it reaches."""
    statements = [s for i, (arn, grant) in enumerate(grants) for s in msk_statements(arn, grant, f"Cluster{i}")]
    return {"Version": "2012-10-17", "Statement": statements}


def iam_grants(plan: Plan, principal: str) -> dict[str, Grant]:
    """Cluster key -> grant, for the grants a principal holds through AWS IAM."""
    return {k: g for k, g in plan.principals[principal].grants.items() if g.auth == Auth.AWS_IAM}


@dataclass(frozen=True, order=True)
class AclEntry:
    """One Kafka ACL entry: the plan principal it is for, and the operation it allows."""

    principal: str
    operation: str


def _add(out: dict[str, set[AclEntry]], acl_id: str, principal: str, ops: Iterable[str]) -> None:
    out.setdefault(acl_id, set()).update(AclEntry(principal, op) for op in ops)


def mirror_extras(plan: Plan, principal: str, cluster: str) -> dict[str, set[AclEntry]]:
    """What a MirrorMaker 2 flow needs on `cluster` beyond its data topics (ACL ID -> entries).

    On the source: describe the consumer groups whose offsets it translates.
    On the target: its internal topics (offset syncs, checkpoints), and the
    same groups with read on the flow's topics, so that committing translated
    offsets is allowed (Kafka's OffsetCommit needs READ on group and topic).
    The groups are those of the services that consume the flow's topics on
    the target (`kafka_acls.translated_groups`).
    """
    flow = plan.mirrors[principal.removeprefix("mirror:")]
    groups = translated_groups(plan, flow)
    out: dict[str, set[AclEntry]] = {}
    for prefix in groups if cluster == flow.source else ():
        _add(out, f"consumerGroupPrefixed/{prefix}", principal, [DESCRIBE])
    if cluster == flow.target:
        for prefix in groups:
            _add(out, f"consumerGroupPrefixed/{prefix}", principal, [READ])
        for topic in flow.topics:
            _add(out, f"topic/{topic}", principal, [READ])
        _add(out, f"topicPrefixed/{OFFSET_SYNCS_PREFIX}", principal, [CREATE, READ, WRITE])
        _add(out, f"topic/{checkpoints_topic(flow)}", principal, [CREATE, READ, WRITE])
    return out


def kafka_acls(plan: Plan, cluster: str) -> dict[str, tuple[AclEntry, ...]]:
    """ACL ID (Managed Kafka's resource-pattern form) -> sorted entries, for every grant on `cluster`.

    IDs as `gcp.managedkafka.Acl` takes them: `topic/<name>` for a literal
    topic, `consumerGroupPrefixed/<prefix>` for a group prefix, and
    `topicPrefixed/<prefix>` for MirrorMaker's offset-syncs topics.
    """
    out: dict[str, set[AclEntry]] = {}
    for key, principal in plan.principals.items():
        grant = principal.grants.get(cluster)
        if grant is None:
            continue
        for topic in grant.produce:
            _add(out, f"topic/{topic}", key, [WRITE])
        for topic in grant.consume:
            _add(out, f"topic/{topic}", key, [READ])
        for group in grant.groups:
            _add(out, f"consumerGroupPrefixed/{group}", key, [READ])
        if principal.kind == PrincipalKind.MIRROR:
            for acl_id, entries in mirror_extras(plan, key, cluster).items():
                out.setdefault(acl_id, set()).update(entries)
    return {acl_id: tuple(sorted(entries)) for acl_id, entries in sorted(out.items())}


def principals_on(plan: Plan, cluster: str) -> Mapping[str, Grant]:
    """Principal key -> its grant on `cluster`, for every principal that reaches it."""
    return {k: p.grants[cluster] for k, p in sorted(plan.principals.items()) if cluster in p.grants}
