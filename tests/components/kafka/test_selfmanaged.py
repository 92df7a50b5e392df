"""A self-managed Kafka region realized through its brokers with pulumi-kafka, under mocks (docs/config.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import access, kafka_acls, naming, selfmanaged
from infra.components.kafka.selfmanaged import OperatorMirror, SelfManagedCluster, SelfManagedTopics
from infra.kinds import Architecture
from infra.plan import Plan
from infra.validation import ConfigError
from tests.components.kafka.test_acls import ACL, KAFKA_PROVIDER, _wire
from tests.support import mocks
from tests.support.program import of_type, plan_of, run_main
from tests.support.stacks import (
    ADMIN_PASSWORD,
    SECRET_KEYS,
    SELF_MANAGED_KEY,
    SELF_MANAGED_REGIONS,
    self_managed_file_raw,
    self_managed_raw,
    self_managed_region,
)

SCRAM = "kafka:index/userScramCredential:UserScramCredential"
TOPIC = "kafka:index/topic:Topic"
PASSWORD = "random:index/randomPassword:RandomPassword"


def _realize(architecture: str) -> tuple[Plan, list[mocks.Registration], Any]:
    regs, outputs, refused = run_main(self_managed_raw(architecture), secret_keys=SECRET_KEYS)
    assert refused is None
    return plan_of(self_managed_file_raw(architecture)), regs, outputs


@pytest.fixture(scope="module")
def realized() -> tuple[Plan, list[mocks.Registration], Any]:
    """Regional clusters: the one architecture that puts a cluster, and so topics, in every region."""
    return _realize(Architecture.REGIONAL_CLUSTERS)


def _admin(plan: Plan, regs: list[mocks.Registration]) -> mocks.Registration:
    name = f"{naming.resource_name(plan.config.name_prefix, plan.config.regions[SELF_MANAGED_KEY])}-admin"
    [provider] = [r for r in of_type(regs, KAFKA_PROVIDER) if r.name == name]
    return provider


def test_the_admin_provider_logs_in_to_the_brokers_with_scram_over_tls_its_password_a_secret(realized: Any) -> None:
    plan, regs, _ = realized
    inputs = _admin(plan, regs).inputs
    # Provider inputs reach the engine as text: lists as JSON.
    assert json.loads(inputs["bootstrapServers"]) == ["kafka-1.paris.example.com:9096"]
    assert (inputs["saslMechanism"], inputs["saslUsername"]) == ("scram-sha512", "pulumi-admin")
    assert inputs["tlsEnabled"] in (True, "true")
    assert mocks.secret(inputs["saslPassword"]) == ADMIN_PASSWORD


def test_each_login_the_plan_needs_there_is_made_with_a_random_secret_password(realized: Any) -> None:
    plan, regs, _ = realized
    provider = _admin(plan, regs)
    mine = [r for r in of_type(regs, SCRAM) if r.provider == provider.urn]
    assert sorted(r.inputs["username"] for r in mine) == list(plan.logins(SELF_MANAGED_KEY))
    assert plan.logins(SELF_MANAGED_KEY), "the region's services log in there under every architecture"
    for r in mine:
        assert r.inputs["scramMechanism"] == "SCRAM-SHA-512"
        mocks.secret(r.inputs["password"])
    # pulumi-random makes them, as MSK's SCRAM users.
    names = {r.name for r in of_type(regs, PASSWORD)}
    assert {r.name for r in mine} <= names


def test_the_acls_there_are_exactly_the_planned_ones(realized: Any) -> None:
    plan, regs, _ = realized
    provider = _admin(plan, regs)
    mine = [r for r in of_type(regs, ACL) if r.provider == provider.urn]
    got = sorted((r.inputs for r in mine), key=lambda i: sorted(i.items()))
    want = sorted((_wire(a) for a in kafka_acls.acls(plan)[SELF_MANAGED_KEY]), key=lambda i: sorted(i.items()))
    assert got == want


def test_its_topics_are_protected_and_retained_on_delete(realized: Any) -> None:
    plan, regs, _ = realized
    provider = _admin(plan, regs)
    topics = [r for r in of_type(regs, TOPIC) if r.provider == provider.urn]
    assert sorted(r.inputs["name"] for r in topics) == sorted(plan.topics.get(SELF_MANAGED_KEY, {}))
    for r in topics:
        planned = plan.topics[SELF_MANAGED_KEY][r.inputs["name"]].settings
        assert (r.protect, r.retain_on_delete) == (True, True)
        assert (r.inputs["partitions"], r.inputs["replicationFactor"]) == (
            planned.partitions,
            planned.replication_factor,
        )
        assert r.inputs["config"] == planned.kafka_config()


@pytest.mark.parametrize("architecture", list(Architecture))
def test_nothing_of_either_cloud_is_made_for_the_region(
    architecture: Architecture, request: pytest.FixtureRequest
) -> None:
    """No network, link or cluster: the cluster already runs and the network is the operator's. Without a
    cluster of its own (header-routing, topic-per-region) its services use the hub with their own login,
    and nothing is made on its brokers."""
    local = architecture == Architecture.REGIONAL_CLUSTERS
    plan, regs, outputs = request.getfixturevalue("realized") if local else _realize(architecture)
    slug = naming.region_slug(plan.config.regions[SELF_MANAGED_KEY])
    made = {(r.type, r.name) for r in regs if slug in r.name and not r.type.startswith("kafka:index/acl:")}
    login = access.scram_username(plan.config.regions[SELF_MANAGED_KEY])
    hub = plan.clusters[plan.hub.key].name
    on_hub = {
        ("aws:secretsmanager/secret:Secret", f"{hub}-scram-{login}"),
        ("aws:secretsmanager/secretVersion:SecretVersion", f"{hub}-scram-{login}"),
        ("aws:secretsmanager/secretPolicy:SecretPolicy", f"{hub}-scram-{login}"),
        ("random:index/randomPassword:RandomPassword", f"{hub}-scram-{login}"),
    }
    if not local:
        assert made == on_hub
        assert SELF_MANAGED_KEY not in outputs["access"]
        return
    assert on_hub <= made
    assert {t for t, _ in made - on_hub} <= {
        SelfManagedCluster.TYPE,
        SelfManagedTopics.TYPE,
        OperatorMirror.TYPE,
        KAFKA_PROVIDER,
        "multicloud-kafka:kafka:KafkaAcls",
        SCRAM,
        TOPIC,
        PASSWORD,
        "aws:secretsmanager/secret:Secret",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
    }, sorted(made - on_hub)


def test_its_services_get_their_login_on_their_own_cluster_as_a_secret_output(realized: Any) -> None:
    plan, _, outputs = realized
    login = outputs["access"][SELF_MANAGED_KEY]["scramLogin"]
    assert login["username"] == access.scram_username(plan.config.regions[SELF_MANAGED_KEY])


@pytest.mark.parametrize("hub", ["aws/us-east-1", "gcp/europe-west1"])
def test_the_handover_output_names_both_passwords_and_holds_them_as_secrets(hub: str) -> None:
    """The program's own outputs: the worker and connector settings hold no password, the environment holds
    both; the flow logs in to an MSK hub with SCRAM, to a Managed Kafka hub with its service account's key."""
    import pulumi

    from infra.components import program

    config = self_managed_raw("regional-clusters", hub=hub)
    plan = plan_of(self_managed_file_raw("regional-clusters", hub=hub))
    flow = plan.mirrors[f"{hub}->{SELF_MANAGED_KEY}"]
    login = access.mirror_login(flow)
    seen: dict[str, Any] = {}

    def body() -> Any:
        architecture = program.main()
        handover = architecture.operator_mirrors[flow.key]
        env = handover["environment"]
        return pulumi.Output.all(
            connectors=handover["connectors"],
            worker=handover["worker"],
            env=env,
            secret=pulumi.Output.all(*(v.is_secret() for v in env.values())),
        ).apply(seen.update)

    mocks.run(body, config, secret_keys=SECRET_KEYS)
    assert set(seen["env"]) == {
        selfmanaged.password_env(flow.source, login),
        selfmanaged.password_env(flow.target, login),
    }
    assert all(seen["secret"])
    text = repr((seen["worker"], seen["connectors"]))
    assert not any(v in text for v in seen["env"].values())
    for name, connector in seen["connectors"].items():
        for side in ("source", "target"):
            variable = selfmanaged.password_env(getattr(flow, side), login)
            assert f"${{env:{variable}}}" in connector[f"{side}.cluster.sasl.jaas.config"], name
        assert connector["topics"] == ",".join(flow.topics)
        assert connector["source.cluster.sasl.mechanism"] == ("SCRAM-SHA-512" if hub.startswith("aws/") else "PLAIN")
        assert connector["target.cluster.sasl.mechanism"] == "SCRAM-SHA-512"
    assert seen["worker"]["bootstrap.servers"] == "kafka-1.paris.example.com:9096"


def test_the_handover_waits_for_the_logins_acls_and_topics_it_needs() -> None:
    config = self_managed_raw("regional-clusters")
    plan = plan_of(self_managed_file_raw("regional-clusters"))
    regs, _, _ = run_main(config, secret_keys=SECRET_KEYS)
    [mirror] = of_type(regs, OperatorMirror.TYPE)
    assert mirror.name == plan.flow_name(plan.mirrors[f"aws/us-east-1->{SELF_MANAGED_KEY}"])
    # A component dependency stands for its resources: the cluster's logins and ACLs.
    [cluster] = of_type(regs, SelfManagedCluster.TYPE)
    by_urn = {r.urn: r for r in regs}
    made = [r.urn for r in regs if r.type in (SCRAM, ACL) and cluster.urn in _ancestors(by_urn, r)]
    topics = [r.urn for r in of_type(regs, TOPIC) if SELF_MANAGED_KEY.replace("/", "-") in r.name]
    assert made and topics and {*made, *topics} <= set(mirror.dependencies)


def _ancestors(by_urn: dict[str, mocks.Registration], r: mocks.Registration) -> list[str]:
    out = []
    while r.parent in by_urn:
        r = by_urn[r.parent]
        out.append(r.urn)
    return out


def test_a_password_in_clear_text_stops_the_program_before_anything_is_registered() -> None:
    with pytest.raises(ConfigError, match="in clear text"):
        run_main(self_managed_raw("regional-clusters"))


def test_the_hubs_network_admits_the_regions_range() -> None:
    """Its principals reach the hub over the operator's connectivity: the hub's Kafka ports admit its CIDR."""
    regs, _, _ = run_main(self_managed_raw("topic-per-region"), secret_keys=SECRET_KEYS)
    cidr = SELF_MANAGED_REGIONS[SELF_MANAGED_KEY]["cidr"]
    [group] = of_type(regs, "aws:ec2/securityGroup:SecurityGroup")
    assert all(cidr in rule["cidrBlocks"] for rule in group.inputs["ingress"])
    [firewall] = of_type(regs, "gcp:compute/firewall:Firewall")
    assert cidr in firewall.inputs["sourceRanges"]


def test_a_private_ca_reaches_the_admin_provider() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIBexample=\n-----END CERTIFICATE-----"
    regions = {**SELF_MANAGED_REGIONS, SELF_MANAGED_KEY: self_managed_region(caCert=pem)}
    regs, _, _ = run_main(self_managed_raw("regional-clusters", regions), secret_keys=SECRET_KEYS)
    [provider] = [r for r in of_type(regs, KAFKA_PROVIDER) if "self-managed" in r.name]
    assert provider.inputs["caCert"] == pem
