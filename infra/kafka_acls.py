"""The Kafka ACLs that give each principal of a plan exactly its grants: pure, no Pulumi.

Used wherever a cluster authorizes with Kafka's own ACLs: the emulator's
brokers (StandardAuthorizer), MSK's SCRAM users and self-managed clusters
(pulumi-kafka). Every entry allows, from any host; the cluster runs with
`allow.everyone.if.no.acl.found=false`, so whatever no entry allows is
refused. Entries are minimal because Kafka lets READ and WRITE imply
DESCRIBE on the same resource, and ALTER_CONFIGS imply DESCRIBE_CONFIGS.

- Services: WRITE on each topic they produce to, READ on each topic they
  consume, READ on the consumer groups under their prefix.
- A mirror flow runs MirrorMaker 2 (identity names, offset syncs on the
  target, checkpoints with group offset sync; infra/mirrormaker.py). On the
  source it reads the flow's topics and describes the groups whose offsets
  it translates; on the target it writes the flow's topics, reads them and
  the groups to commit translated offsets, creates and uses its offset-syncs
  and checkpoints topics, and runs its Connect worker (group and internal
  topics). The groups it translates are those of the services that consume
  the flow's topics on the target. tests/emulator/test_emulator_access.py
  shows on real Kafka that it copies everything with no more than this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from infra import access, mirrormaker
from infra.kinds import PrincipalKind
from infra.plan import Grant, MirrorFlow, Plan

# Every entry allows, from any host.
PERMISSION = "ALLOW"
HOST = "*"


class ResourceType(StrEnum):
    TOPIC = "topic"
    GROUP = "group"


class Pattern(StrEnum):
    LITERAL = "literal"
    PREFIXED = "prefixed"


class Operation(StrEnum):
    READ = "read"
    WRITE = "write"
    CREATE = "create"
    DESCRIBE = "describe"
    DESCRIBE_CONFIGS = "describe_configs"


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW entry: `login` may do `operation` on the resource(s) `name` matches."""

    login: str
    resource: ResourceType
    name: str
    pattern: Pattern
    operation: Operation

    @property
    def principal(self) -> str:
        """The Kafka principal of the login: User:<name>, as SCRAM and SASL/PLAIN authenticate it."""
        return f"User:{self.login}"


def scram_logins(plan: Plan) -> dict[str, str]:
    """Principal key -> its login where every principal logs in with SCRAM (the emulator, a self-managed cluster).

    The same names the clouds use for the principals that need a login there:
    a region's services `access.scram_username`, each flow `access.mirror_login`.
    """
    flows = _flows_by_principal(plan)
    return {
        key: access.mirror_login(flows[key])
        if p.kind == PrincipalKind.MIRROR
        else access.scram_username(plan.config.regions[p.home])
        for key, p in plan.principals.items()
    }


def acls(plan: Plan, logins: Mapping[str, str] | None = None) -> dict[str, tuple[Acl, ...]]:
    """Cluster key -> the sorted ACL entries it needs.

    `logins`: principal key -> login, for a cluster every principal logs in to
    with SCRAM (`scram_logins`). Without it, each grant's own `Grant.login`,
    and grants without one (the cloud's own identity) get no entries: IAM
    governs those.
    """
    out: dict[str, set[Acl]] = {key: set() for key in plan.clusters}
    flows = _flows_by_principal(plan)
    for key, principal in plan.principals.items():
        for cluster, grant in principal.grants.items():
            login = grant.login if logins is None else logins[key]
            if login is None:
                continue
            if principal.kind == PrincipalKind.MIRROR:
                out[cluster] |= _mirror(plan, flows[key], grant, login)
            else:
                out[cluster] |= _services(grant, login)
    return {key: tuple(sorted(entries)) for key, entries in out.items()}


def worker_login(plan: Plan, target: str, logins: Mapping[str, str]) -> str:
    """The login of the Connect worker that runs the flows into `target`: its first flow's.

    Every flow into `target` may use the worker's group and topics, so
    whichever flow's login the worker uses, it needs no more than that flow.
    """
    keys = sorted(access.mirror_key(f.key) for f in plan.mirrors.values() if f.target == target)
    if not keys:
        raise ValueError(f"no mirror flow has target {target}")
    return logins[keys[0]]


def translated_groups(plan: Plan, flow: MirrorFlow) -> tuple[str, ...]:
    """Group prefixes whose offsets the flow's checkpoints carry over: its topics' consumers on the target."""
    topics = set(flow.topics)
    return tuple(
        sorted(
            {
                prefix
                for p in plan.principals.values()
                if p.kind == PrincipalKind.SERVICES
                for g in p.grants.values()
                if g.cluster == flow.target and topics & set(g.consume)
                for prefix in g.groups
            }
        )
    )


def _services(grant: Grant, login: str) -> set[Acl]:
    return {
        *(_topic(login, t, Operation.WRITE) for t in grant.produce),
        *(_topic(login, t, Operation.READ) for t in grant.consume),
        *(Acl(login, ResourceType.GROUP, g, Pattern.PREFIXED, Operation.READ) for g in grant.groups),
    }


def _mirror(plan: Plan, flow: MirrorFlow, grant: Grant, login: str) -> set[Acl]:
    groups = translated_groups(plan, flow)
    if grant.cluster == flow.source:
        return {
            *(_topic(login, t, Operation.READ) for t in grant.consume),
            *(Acl(login, ResourceType.GROUP, g, Pattern.PREFIXED, Operation.DESCRIBE) for g in groups),
        }
    worker = mirrormaker.worker_topics(flow.target).values()
    return {
        *(_topic(login, t, op) for t in grant.produce for op in (Operation.WRITE, Operation.READ)),
        *(
            _topic(login, t, op)
            for t in (mirrormaker.offset_syncs_topic(flow), mirrormaker.checkpoints_topic(flow))
            for op in (Operation.CREATE, Operation.WRITE, Operation.READ)
        ),
        *(Acl(login, ResourceType.GROUP, g, Pattern.PREFIXED, Operation.READ) for g in groups),
        *(
            _topic(login, t, op)
            for t in worker
            for op in (Operation.CREATE, Operation.WRITE, Operation.READ, Operation.DESCRIBE_CONFIGS)
        ),
        Acl(login, ResourceType.GROUP, mirrormaker.worker_group(flow.target), Pattern.LITERAL, Operation.READ),
    }


def _topic(login: str, name: str, operation: Operation) -> Acl:
    return Acl(login, ResourceType.TOPIC, name, Pattern.LITERAL, operation)


def _flows_by_principal(plan: Plan) -> dict[str, MirrorFlow]:
    return {access.mirror_key(f.key): f for f in plan.mirrors.values()}
