"""Tier 1: the Kafka ACLs each principal gets from the plan (infra/kafka_acls.py).

That these entries are enough, and no more than enough, is shown on real
Kafka with the authorizer on by tests/emulator/test_emulator_access.py.
"""

import pytest

from infra import access, kafka_acls, mirrormaker, stackfile
from infra.architectures import build_plan
from infra.kafka_acls import Acl, Operation, Pattern, ResourceType
from infra.kinds import ClusterRole, PrincipalKind
from infra.plan import Plan

STACKS = ("dev", "staging", "prod")


def plan_of(stack: str) -> Plan:
    return build_plan(stackfile.load(stack))


def entries_of(plan: Plan, login: str) -> dict[str, set[Acl]]:
    every = kafka_acls.acls(plan, kafka_acls.scram_logins(plan))
    return {cluster: {e for e in entries if e.login == login} for cluster, entries in every.items()}


@pytest.mark.parametrize("stack", STACKS)
def test_every_principal_has_its_own_login(stack):
    plan = plan_of(stack)
    logins = kafka_acls.scram_logins(plan)
    assert set(logins) == set(plan.principals)
    assert len(set(logins.values())) == len(logins)
    for key, p in plan.principals.items():
        if p.kind == PrincipalKind.SERVICES:
            assert logins[key] == access.scram_username(plan.config.regions[p.home])


@pytest.mark.parametrize("stack", STACKS)
def test_scram_logins_agree_with_the_cloud_logins_where_the_plan_has_one(stack):
    plan = plan_of(stack)
    logins = kafka_acls.scram_logins(plan)
    for key, p in plan.principals.items():
        for g in p.grants.values():
            assert g.login in (None, logins[key])


@pytest.mark.parametrize("stack", STACKS)
def test_services_get_exactly_their_grants(stack):
    plan = plan_of(stack)
    logins = kafka_acls.scram_logins(plan)
    for key, p in plan.principals.items():
        if p.kind != PrincipalKind.SERVICES:
            continue
        got = entries_of(plan, logins[key])
        for cluster, entries in got.items():
            g = p.grants.get(cluster)
            want = set()
            if g is not None:
                want |= {Acl(logins[key], ResourceType.TOPIC, t, Pattern.LITERAL, Operation.WRITE) for t in g.produce}
                want |= {Acl(logins[key], ResourceType.TOPIC, t, Pattern.LITERAL, Operation.READ) for t in g.consume}
                want |= {Acl(logins[key], ResourceType.GROUP, x, Pattern.PREFIXED, Operation.READ) for x in g.groups}
            assert entries == want, (key, cluster)


def test_topic_per_region_services_read_only_their_own_region_topics():
    plan = plan_of("staging")
    logins = kafka_acls.scram_logins(plan)
    for key in plan.principals:
        slug = logins[key].upper().replace("-", "_")
        reads = {e.name for es in entries_of(plan, logins[key]).values() for e in es if e.operation == Operation.READ}
        topics = {n for n in reads if not n.endswith(".")}
        assert topics and all(n.endswith(slug) for n in topics), (key, topics)


def test_header_routing_every_region_reads_the_shared_topics_as_readers_by_region_says():
    plan = plan_of("dev")
    logins = kafka_acls.scram_logins(plan)
    readers = access.readers_by_region(plan)
    for region, keys in readers.items():
        for key in keys:
            reads = {e.name for es in entries_of(plan, logins[key]).values() for e in es}
            assert set(plan.topics[plan.hub.key]) <= reads, (region, key)


def test_a_mirror_flow_reads_its_source_and_writes_its_target_and_its_own_internals_only():
    plan = plan_of("prod")
    logins = kafka_acls.scram_logins(plan)
    for flow in plan.mirrors.values():
        login = logins[access.mirror_key(flow.key)]
        got = entries_of(plan, login)
        source, target = got[flow.source], got[flow.target]
        assert {e.name for e in source if e.resource == ResourceType.TOPIC} == set(flow.topics)
        assert {e.operation for e in source if e.resource == ResourceType.TOPIC} == {Operation.READ}
        region_groups = kafka_acls.translated_groups(plan, flow)
        if plan.clusters[flow.target].role == ClusterRole.STANDBY:
            # Whoever fails over to the standby resumes there with its groups' offsets.
            movers = (r for r, c in plan.routing.items() if c.failover and c.failover.consume_cluster == flow.target)
            assert region_groups == tuple(sorted(access.group_prefix(plan.config.regions[r]) for r in movers))
        else:
            assert region_groups == (access.group_prefix(plan.clusters[flow.target].region),)
        assert {(e.name, e.operation) for e in source if e.resource == ResourceType.GROUP} == {
            (g, Operation.DESCRIBE) for g in region_groups
        }
        internal = {
            mirrormaker.offset_syncs_topic(flow),
            mirrormaker.checkpoints_topic(flow),
            *mirrormaker.worker_topics(flow.target).values(),
        }
        assert {e.name for e in target if e.resource == ResourceType.TOPIC} == set(flow.topics) | internal
        assert {e.operation for e in target if e.name in flow.topics} == {Operation.WRITE, Operation.READ}
        assert {e.name for e in target if e.resource == ResourceType.GROUP} == {
            *region_groups,
            mirrormaker.worker_group(flow.target),
        }
        others = set(plan.clusters) - {flow.source, flow.target}
        assert all(not got[c] for c in others)


def test_without_logins_only_grants_with_a_cloud_login_get_entries():
    plan = plan_of("prod")
    every = kafka_acls.acls(plan)
    named = {g.login for p in plan.principals.values() for g in p.grants.values() if g.login}
    for cluster, entries in every.items():
        assert {e.login for e in entries} == set(plan.logins(cluster))
        assert {e.login for e in entries} <= named


def test_the_connect_worker_logs_in_as_a_flow_into_its_target():
    plan = plan_of("prod")
    logins = kafka_acls.scram_logins(plan)
    for flow in plan.mirrors.values():
        assert kafka_acls.worker_login(plan, flow.target, logins) == logins[access.mirror_key(flow.key)]
    with pytest.raises(ValueError, match="no mirror flow has target aws/us-east-1"):
        kafka_acls.worker_login(plan, "aws/us-east-1", logins)


def test_entries_are_sorted_and_name_the_kafka_principal():
    plan = plan_of("prod")
    for entries in kafka_acls.acls(plan, kafka_acls.scram_logins(plan)).values():
        assert list(entries) == sorted(entries)
        assert all(e.principal == f"User:{e.login}" for e in entries)
