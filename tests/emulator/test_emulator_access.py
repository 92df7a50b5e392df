"""Kafka tier: each principal can do on real Kafka exactly what the plan grants it, for each architecture.

The brokers run SASL/SCRAM-SHA-512 with Kafka's StandardAuthorizer and
`allow.everyone.if.no.acl.found=false`; the ACLs are infra.kafka_acls'.
Every check logs in as the principal itself, with its own password, and
asserts on the error code Kafka returns. Each architecture's stack is the
session's one bring-up (tests/emulator/conftest.py).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from emulator import connect, credentials, stack
from emulator.credentials import ADMIN
from infra import access, kafka_acls, mirrormaker
from infra.kinds import PrincipalKind
from infra.plan import Plan

ARCHITECTURES = ["dev_up", "staging_up", "prod_up"]
WAIT_S = 30
QUIET = {"log_level": 0}


@pytest.fixture(params=ARCHITECTURES)
def up(request) -> tuple[Plan, stack.Emulation]:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def probed() -> dict[str, dict[str, set[tuple[str, str]]]]:
    """Stack -> what `_readable` found, so each stack is probed once."""
    return {}


def _login(emulation: stack.Emulation, principal: str) -> str:
    return emulation.credentials.principals[principal]


def _fetch_outcomes(emulation: stack.Emulation, cluster: str, login: str, topics: list[str]) -> dict[str, KafkaError]:
    """Topic -> what a fetch of its partition 0 as `login` returns: end of partition, or the error Kafka gave.

    Assigned, not subscribed: reading needs no group, so only the topic's ACLs decide.
    """
    c = Consumer(
        {
            "bootstrap.servers": emulation.clusters[cluster].bootstrap,
            **emulation.credentials.client(login),
            "group.id": f"probe-{uuid.uuid4().hex[:8]}",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
            **QUIET,
        }
    )
    out: dict[str, KafkaError] = {}
    try:
        # A topic the login may not even describe: Kafka refuses its metadata, so no fetch is tried.
        for topic in topics:
            err = c.list_topics(topic, timeout=WAIT_S).topics[topic].error
            if err is not None:
                out[topic] = err
        c.assign([TopicPartition(t, 0, OFFSET_END) for t in topics if t not in out])
        deadline = time.monotonic() + WAIT_S
        while set(out) != set(topics):
            assert time.monotonic() < deadline, f"no answer for {sorted(set(topics) - set(out))} as {login}"
            msg = c.poll(0.2)
            if msg is not None and msg.error() is not None and msg.topic() in topics:
                out.setdefault(msg.topic(), msg.error())
    finally:
        c.close()
    return out


def _readable(plan: Plan, emulation: stack.Emulation, probed: dict) -> dict[str, set[tuple[str, str]]]:
    """Principal key -> the (cluster, topic) pairs it can read, as the brokers answer; every other fetch was
    refused with TOPIC_AUTHORIZATION_FAILED."""
    if plan.config.stack in probed:
        return probed[plan.config.stack]
    out: dict[str, set[tuple[str, str]]] = probed.setdefault(plan.config.stack, {})
    for key in plan.principals:
        out[key] = set()
        for cluster, topics in plan.topics.items():
            for topic, err in _fetch_outcomes(emulation, cluster, _login(emulation, key), list(topics)).items():
                if err.code() == KafkaError._PARTITION_EOF:
                    out[key].add((cluster, topic))
                else:
                    assert err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (key, cluster, topic, err)
    return out


def test_mirrormaker_copies_as_its_own_principal_and_is_never_refused(prod_up):
    """Each Connect worker and connector logs in as its flow's login; with only infra.kafka_acls' entries
    MirrorMaker 2 has run since the stack came up (copying everything: test_emulator_mirroring.py) without
    one refusal in any broker's authorizer log, and its own topics on the target are those infra.mirrormaker
    names. First in this module: its later probes log in as the flows and are refused on purpose."""
    plan, emulation = prod_up
    for flow in plan.mirrors.values():
        login = _login(emulation, access.mirror_key(flow.key))
        worker = emulation.workers[flow.target]
        props = (Path(worker.dir) / "worker.properties").read_text()
        assert f'username="{login}"' in props and f'username="{ADMIN}"' not in props
        on_target = stack.topics_on(emulation.clusters[flow.target].bootstrap, emulation.admin())
        assert on_target == set(plan.topics[flow.target])
        admin = AdminClient({"bootstrap.servers": emulation.clusters[flow.target].bootstrap, **emulation.admin()})
        internal = {
            t for t in admin.list_topics(timeout=WAIT_S).topics if connect.internal(t) and not t.startswith("__")
        }
        assert internal == {
            mirrormaker.offset_syncs_topic(flow),
            mirrormaker.checkpoints_topic(flow),
            *mirrormaker.worker_topics(flow.target).values(),
        }
    logins = {_login(emulation, access.mirror_key(f.key)) for f in plan.mirrors.values()}
    for c in emulation.clusters.values():
        log = (Path(c.dir) / "server.log").read_text(errors="replace")
        refused = [
            line for line in log.splitlines() if "is Denied" in line and any(f"User:{x} " in line for x in logins)
        ]
        assert refused == [], refused[:3]


def test_every_principal_reads_exactly_the_topics_its_grants_say(up, probed):
    """A region's services read only their consume topics; a mirror flow reads its topics on both ends
    (on the target to commit translated group offsets); any other fetch is TOPIC_AUTHORIZATION_FAILED."""
    plan, emulation = up
    readable = _readable(plan, emulation, probed)
    for key, p in plan.principals.items():
        want = {(c, t) for c, g in p.grants.items() for t in g.consume}
        if p.kind == PrincipalKind.MIRROR:
            flow = next(f for f in plan.mirrors.values() if access.mirror_key(f.key) == key)
            want |= {(flow.target, t) for t in flow.topics}
        assert readable[key] == want, key
    sample = _fetch_outcomes(emulation, plan.hub.key, ADMIN, list(plan.topics[plan.hub.key]))
    assert all(e.code() == KafkaError._PARTITION_EOF for e in sample.values())


def test_who_can_read_each_regions_messages_is_what_readers_by_region_says(up, probed):
    """Header routing's exposure, on the brokers: every region reads every region's messages there; the other
    architectures keep each region's messages to the region and the flow that carries them."""
    plan, emulation = up
    readable = _readable(plan, emulation, probed)
    for region, readers in access.readers_by_region(plan).items():
        carriers = {
            (cluster, t.name)
            for cluster, topics in plan.topics.items()
            for t in topics.values()
            if t.destination in (None, region)
        }
        actual = {key for key, pairs in readable.items() if pairs & carriers}
        assert actual == set(readers), region
        if plan.architecture == "header-routing":
            assert {k for k in actual if k.startswith("services:")} == {
                access.services_key(r) for r in plan.config.regions
            }
        else:
            assert access.isolated(plan, region, tuple(sorted(actual))), region


def test_a_region_cannot_join_another_regions_group(up):
    plan, emulation = up
    for region, contract in plan.routing.items():
        other = next(r for r in plan.config.regions if r != region)
        group = f"{access.group_prefix(plan.config.regions[other])}intruder-{uuid.uuid4().hex[:6]}"
        err = _join(emulation, contract.consume_cluster, region, group, next(iter(contract.consume.values())))
        assert err is not None and err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, (region, err)
        # Its own prefix works on the same cluster and topic.
        own = f"{access.group_prefix(plan.config.regions[region])}access-{uuid.uuid4().hex[:6]}"
        assert _join(emulation, contract.consume_cluster, region, own, next(iter(contract.consume.values()))) is None


def _join(emulation: stack.Emulation, cluster: str, region: str, group: str, topic: str) -> KafkaError | None:
    """Joins `group` on `topic` as the region; the first error, or None once partitions are assigned."""
    assigned: list[bool] = []
    c = Consumer(
        {
            "bootstrap.servers": emulation.clusters[cluster].bootstrap,
            **emulation.client(region),
            "group.id": group,
            **QUIET,
        }
    )
    try:
        c.subscribe([topic], on_assign=lambda consumer, parts: assigned.append(True))
        deadline = time.monotonic() + WAIT_S
        while not assigned:
            assert time.monotonic() < deadline, f"neither joined nor refused {group}"
            msg = c.poll(0.2)
            if msg is not None and msg.error() is not None and msg.error().code() != KafkaError._PARTITION_EOF:
                return msg.error()
        return None
    finally:
        c.close()


def _produce(emulation: stack.Emulation, cluster: str, login: str, topics: list[str]) -> dict[str, KafkaError | None]:
    """Topic -> the delivery outcome of one message produced there as `login`."""
    out: dict[str, KafkaError | None] = {}
    p = Producer(
        {
            "bootstrap.servers": emulation.clusters[cluster].bootstrap,
            **emulation.credentials.client(login),
            "message.timeout.ms": 10000,
            **QUIET,
        }
    )
    for topic in topics:
        p.produce(topic, b"access-probe", on_delivery=lambda err, msg, topic=topic: out.setdefault(topic, err))
    assert p.flush(WAIT_S) == 0
    return out


def test_a_region_produces_only_where_its_contract_sends(up):
    """Under regional clusters a region's services produce to the hub only: its own cluster is written by
    MirrorMaker 2 alone. Under one hub every region's contract sends every topic there, so the denial shown
    is a topic outside the plan, which Kafka refuses to them before it would say the topic is unknown."""
    plan, emulation = up
    for region in plan.config.regions:
        p = plan.principals[access.services_key(region)]
        login = _login(emulation, p.key)
        for cluster, topics in plan.topics.items():
            allowed = set(p.grants[cluster].produce) if cluster in p.grants else set()
            forbidden = [*sorted(set(topics) - allowed), "NOT_PLANNED"]
            outcomes = _produce(emulation, cluster, login, forbidden)
            assert {t: e.code() if e else None for t, e in outcomes.items()} == dict.fromkeys(
                forbidden, KafkaError.TOPIC_AUTHORIZATION_FAILED
            ), (region, cluster)
    # Producing where it may is what every traffic test does (tests/emulator/test_emulator_routing.py).
    if plan.architecture == "regional-clusters":
        assert all(plan.topics[c] for c in plan.clusters if c != plan.hub.key)


def test_the_brokers_hold_exactly_the_plans_acls(up):
    plan, emulation = up
    # With a standby hub, also the flows of the other hub active (emulator.credentials.access_plans).
    want = credentials.acls(plan, emulation.credentials.principals)
    every = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    for cluster, c in emulation.clusters.items():
        admin = AdminClient({"bootstrap.servers": c.bootstrap, **emulation.admin(), **QUIET})
        got = admin.describe_acls(every, request_timeout=WAIT_S).result(timeout=WAIT_S)
        assert {
            (b.principal, b.restype.name, b.name, b.resource_pattern_type.name, b.operation.name, b.host)
            for b in got
            if b.permission_type == AclPermissionType.ALLOW
        } == {
            (a.principal, a.resource.name, a.name, a.pattern.name, a.operation.name, kafka_acls.HOST)
            for a in want[cluster]
        }, cluster


def test_a_wrong_password_or_an_unknown_login_is_refused(dev_up):
    """Kafka answers SASL_AUTHENTICATION_FAILED; librdkafka reports it as _AUTHENTICATION with the broker's text."""
    plan, emulation = dev_up
    region = next(iter(plan.config.regions))
    bootstrap = emulation.clusters[plan.hub.key].bootstrap
    for name, settings in {
        "wrong password": {**emulation.client(region), "sasl.password": "not-the-password"},
        "unknown login": {**emulation.client(region), "sasl.username": "nobody"},
        "another login's password": {**emulation.client(region), "sasl.password": emulation.admin()["sasl.password"]},
    }.items():
        errors: list[KafkaError] = []
        p = Producer({"bootstrap.servers": bootstrap, **settings, "error_cb": errors.append, **QUIET})
        with pytest.raises(KafkaException):
            p.list_topics(timeout=5)
        deadline = time.monotonic() + WAIT_S
        while not (auth := [e for e in errors if e.code() == KafkaError._AUTHENTICATION]):
            assert time.monotonic() < deadline, (name, errors)
            p.poll(0.2)
        assert "invalid credentials with SASL mechanism SCRAM-SHA-512" in auth[0].str(), auth[0].str()
        print(f"{name}: {auth[0].name()}: {auth[0].str()}")
