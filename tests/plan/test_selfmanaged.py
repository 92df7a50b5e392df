"""Tier 1: self-managed Kafka regions in the config and the plan, without Pulumi (docs/config.md, Self-managed Kafka)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra import access, geo, kafka_acls, render, selfmanaged, stackfile, traffic
from infra.architectures import build_plan
from infra.config import validate
from infra.kinds import Architecture, Auth, ClusterRole, MirrorMechanism, ScramMechanism
from infra.plan import Plan
from infra.validation import ConfigError, k
from tests.support.stacks import (
    ADMIN_PASSWORD,
    ADMIN_PASSWORD_KEY,
    SECRET_KEYS,
    SELF_MANAGED_KEY,
    SELF_MANAGED_REGIONS,
    api_key,
    aws_backend,
    config_of,
    self_managed_file_raw,
    self_managed_raw,
    self_managed_region,
)

REGIONS_KEY = k("regions")
SM = f"{REGIONS_KEY}.{SELF_MANAGED_KEY}"
# Not a real CA: the shape validation and clients read.
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUexample0000000000000000000000=\n-----END CERTIFICATE-----"
PASSWORD = k(ADMIN_PASSWORD_KEY)


def plan_for(architecture: str = "regional-clusters", **keys: Any) -> Plan:
    return build_plan(config_of(self_managed_file_raw(architecture, **keys)))


def problems_of(raw: dict[str, Any], is_secret: Callable[[str], bool] | None = None) -> list[Any]:
    with pytest.raises(ConfigError) as e:
        if is_secret is None:
            validate(stackfile.decode(raw), "t")
        else:
            validate(stackfile.decode(raw), "t", is_secret)
    return e.value.problems


def with_region(**fields: Any) -> dict[str, Any]:
    """The test regions with the self-managed entry's fields replaced (None removes one)."""
    entry = {key: v for key, v in {**self_managed_region(), **fields}.items() if v is not None}
    return {**SELF_MANAGED_REGIONS, SELF_MANAGED_KEY: entry}


def test_a_self_managed_region_is_read_with_its_connection_settings() -> None:
    cfg = config_of(self_managed_file_raw())
    region = cfg.regions[SELF_MANAGED_KEY]
    assert (region.cloud, region.name, str(region.cidr)) == (geo.SELF_MANAGED, "paris-dc1", "10.50.0.0/16")
    sm = cfg.self_managed[SELF_MANAGED_KEY]
    assert sm.bootstrap == ("kafka-1.paris.example.com:9096",)
    assert (sm.admin_user, sm.admin_password_key) == ("pulumi-admin", ADMIN_PASSWORD_KEY)
    # Defaults: SCRAM-SHA-512 over TLS.
    assert (sm.mechanism, sm.tls) == (ScramMechanism.SHA_512, True)


def test_bootstrap_may_be_a_comma_separated_string_and_a_small_range_is_enough() -> None:
    regions = with_region(bootstrap="Kafka-1.dc:9096, 10.50.0.12:9096", cidr="10.50.0.0/28", tls=False)
    cfg = config_of(self_managed_file_raw(regions=regions))
    assert cfg.self_managed[SELF_MANAGED_KEY].bootstrap == ("kafka-1.dc:9096", "10.50.0.12:9096")
    assert cfg.self_managed[SELF_MANAGED_KEY].tls is False
    assert str(cfg.regions[SELF_MANAGED_KEY].cidr) == "10.50.0.0/28"


def test_the_program_passes_pulumis_own_word_that_the_password_is_a_secret() -> None:
    """A running program gets the plain value: Pulumi says which keys are secrets."""
    raw = stackfile.decode(self_managed_raw())
    assert validate(raw, "t", lambda key: key in SECRET_KEYS).self_managed[SELF_MANAGED_KEY]
    assert [p.key for p in problems_of(self_managed_raw(), lambda key: False)] == [PASSWORD]


# Each case: a change to the valid self-managed stack, the key the error must name, and a word of its advice.
BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "no bootstrap": (with_region(bootstrap=None), f"{SM}.bootstrap", "host:port"),
    "bootstrap without port": (with_region(bootstrap=["kafka-1.dc"]), f"{SM}.bootstrap", "is not host:port"),
    "bootstrap port out of range": (with_region(bootstrap=["kafka-1.dc:70000"]), f"{SM}.bootstrap", "host:port"),
    "same broker twice": (with_region(bootstrap=["a.dc:9096", "A.dc:9096"]), f"{SM}.bootstrap", "twice"),
    "plain mechanism": (with_region(saslMechanism="PLAIN"), f"{SM}.saslMechanism", "SCRAM-SHA-512"),
    "no admin user": (with_region(adminUser=None), f"{SM}.adminUser", "super user"),
    "admin named like a login the stack makes": (
        with_region(adminUser="mirror-admin"),
        f"{SM}.adminUser",
        "replace this administrator's password",
    ),
    "no password key": (with_region(adminPasswordKey=None), f"{SM}.adminPasswordKey", "--secret"),
    "password key is a setting": (with_region(adminPasswordKey="hub"), f"{SM}.adminPasswordKey", "--secret"),
    "password key not set": (with_region(adminPasswordKey="otherPassword"), k("otherPassword"), "--secret"),
    "unknown field": (with_region(saslPassword="x"), f"{SM}.saslPassword", "adminPasswordKey"),
    "bad name": (
        {**SELF_MANAGED_REGIONS, "self-managed/Paris_DC": self_managed_region()},
        f"{REGIONS_KEY}.self-managed/Paris_DC",
        "paris-dc1",
    ),
    "tls not a boolean": (with_region(tls="maybe"), f"{SM}.tls", "true or false"),
    "public range": (with_region(cidr="8.8.8.0/24"), f"{SM}.cidr", "private"),
    "ca not a certificate": (with_region(caCert="my-ca.pem"), f"{SM}.caCert", "BEGIN CERTIFICATE"),
    "ca without tls": (with_region(caCert=CA_PEM, tls=False), f"{SM}.caCert", "tls"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_self_managed_settings_are_refused_naming_the_key_and_what_to_do(case: str) -> None:
    regions, key, advice = BAD[case]
    named = regions.get(SELF_MANAGED_KEY, {}).get("adminPasswordKey")
    # A password key no region names any more is a problem of its own (an unknown setting): leave it out.
    keys = {} if named == ADMIN_PASSWORD_KEY else {ADMIN_PASSWORD_KEY: None}
    problems = problems_of(self_managed_file_raw(regions=regions, **keys))
    assert [p.key for p in problems] == [key]
    assert advice in problems[0].fix


def test_a_password_in_clear_text_is_refused_without_repeating_it() -> None:
    problems = problems_of(self_managed_raw())
    assert [(p.key, p.value) for p in problems] == [(PASSWORD, "(clear text)")]
    assert ADMIN_PASSWORD not in str(ConfigError("t", problems))
    assert f"pulumi config set --secret {ADMIN_PASSWORD_KEY}" in problems[0].fix


@pytest.mark.parametrize("key", ["hub", "standbyHub"])
def test_a_self_managed_region_is_never_a_hub(key: str) -> None:
    """docs/adr/0009-self-managed-kafka-is-never-a-hub.md."""
    problems = problems_of(self_managed_file_raw(**{key: SELF_MANAGED_KEY}))
    assert [p.key for p in problems] == [k(key)]
    assert "cannot be a hub" in problems[0].fix and "docs/adr/0009" in problems[0].fix


@pytest.mark.parametrize("architecture", list(Architecture))
def test_a_self_managed_region_takes_part_in_every_architecture_with_no_link(architecture: Architecture) -> None:
    plan = plan_for(architecture)
    assert not any(SELF_MANAGED_KEY in (link.hub, link.spoke) for link in plan.links.values())
    services = plan.principals[access.services_key(SELF_MANAGED_KEY)]
    # On the MSK hub, its services log in with their own SCRAM user, as the other cloud's do.
    hub = services.grants[plan.hub.key]
    assert (hub.auth, hub.login) == (Auth.SCRAM, "self-managed-paris-dc1")
    assert "self-managed-paris-dc1" in plan.logins(plan.hub.key)
    contract = plan.routing[SELF_MANAGED_KEY]
    local = architecture == Architecture.REGIONAL_CLUSTERS
    assert contract.consume_cluster == (SELF_MANAGED_KEY if local else plan.hub.key)
    # Everyone can send to it, wherever they are.
    assert all(SELF_MANAGED_KEY in rc.produce[e] for rc in plan.routing.values() for e in plan.config.events)


def test_under_regional_clusters_its_cluster_is_fed_by_the_operators_mirrormaker() -> None:
    plan = plan_for("regional-clusters")
    cluster = plan.clusters[SELF_MANAGED_KEY]
    assert cluster.role == ClusterRole.LOCAL
    assert set(plan.topics[SELF_MANAGED_KEY]) == {
        "CREATE_ACCOUNT_SELF_MANAGED_PARIS_DC1",
        "UPDATE_PROFILE_SELF_MANAGED_PARIS_DC1",
    }
    flow = plan.mirrors[f"{plan.hub.key}->{SELF_MANAGED_KEY}"]
    assert flow.mechanism == MirrorMechanism.MM2_OPERATOR
    assert [f.key for f in plan.mirrors.values() if f.mechanism == MirrorMechanism.MM2_OPERATOR] == [flow.key]
    # Every principal on a self-managed cluster logs in with a SCRAM user of its own, held by ACLs.
    on_it = {p.key: p.grants[SELF_MANAGED_KEY] for p in plan.principals.values() if SELF_MANAGED_KEY in p.grants}
    assert set(on_it) == {access.services_key(SELF_MANAGED_KEY), access.mirror_key(flow.key)}
    assert {g.auth for g in on_it.values()} == {Auth.SCRAM}
    assert plan.logins(SELF_MANAGED_KEY) == tuple(sorted(["self-managed-paris-dc1", access.mirror_login(flow)]))
    entries = kafka_acls.acls(plan)[SELF_MANAGED_KEY]
    assert {a.login for a in entries} == set(plan.logins(SELF_MANAGED_KEY))
    services = [a for a in entries if a.login == "self-managed-paris-dc1"]
    assert {(a.name, a.operation) for a in services} == {
        ("CREATE_ACCOUNT_SELF_MANAGED_PARIS_DC1", kafka_acls.Operation.READ),
        ("UPDATE_PROFILE_SELF_MANAGED_PARIS_DC1", kafka_acls.Operation.READ),
        ("self-managed-paris-dc1.", kafka_acls.Operation.READ),
    }


def test_a_gcp_hub_gives_it_a_service_account_key_and_its_resolvers_a_domain_to_forward() -> None:
    plan = plan_for("topic-per-region", hub="gcp/europe-west1")
    grant = plan.principals[access.services_key(SELF_MANAGED_KEY)].grants["gcp/europe-west1"]
    assert grant.auth == Auth.GCP_KEY
    [to_hub, _deployer] = selfmanaged.openings(plan)
    assert (to_hub.source, to_hub.ports) == ("10.50.0.0/16", (9092,))
    assert "europe-west1.managedkafka.acme-streaming.cloud.goog" in to_hub.why


def test_the_plan_says_what_the_operators_network_must_let_through() -> None:
    plan = plan_for("regional-clusters")
    [to_hub, deployer] = selfmanaged.openings(plan)
    assert (to_hub.region, to_hub.source, to_hub.destination, to_hub.ports) == (
        SELF_MANAGED_KEY,
        "10.50.0.0/16",
        "aws/us-east-1 10.10.0.0/16",
        (9096,),
    )
    assert access.mirror_key(f"aws/us-east-1->{SELF_MANAGED_KEY}") in to_hub.why
    # pulumi up runs in the hub's network (kafkaAdmin) and reaches the brokers there.
    assert deployer.source == "pulumi up in aws/us-east-1"
    assert deployer.ports == (9096,)
    assert "kafka-1.paris.example.com:9096" in deployer.destination
    text = render.plan_text(plan)
    assert "Self-managed regions: what the operator's network must let through" in text


def test_the_operators_worker_holds_no_password_only_a_reference() -> None:
    plan = plan_for("regional-clusters")
    worker = selfmanaged.operator_worker(plan, SELF_MANAGED_KEY)
    login = access.mirror_login(plan.mirrors[f"aws/us-east-1->{SELF_MANAGED_KEY}"])
    variable = selfmanaged.password_env(SELF_MANAGED_KEY, login)
    assert worker["bootstrap.servers"] == "kafka-1.paris.example.com:9096"
    assert worker["config.providers.env.class"] == selfmanaged.ENV_PROVIDER
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert worker[f"{prefix}security.protocol"] == "SASL_SSL"
        assert worker[f"{prefix}sasl.mechanism"] == "SCRAM-SHA-512"
        assert f'username="{login}" password="${{env:{variable}}}"' in worker[f"{prefix}sasl.jaas.config"]
    # The worker's group and topics are those its login's ACLs allow (infra/kafka_acls.py).
    allowed = {a.name for a in kafka_acls.acls(plan)[SELF_MANAGED_KEY] if a.login == login}
    assert worker["group.id"] in allowed
    assert {worker[s] for s in ("config.storage.topic", "offset.storage.topic", "status.storage.topic")} <= allowed
    # The two passwords of one flow's login (on the hub, on the cluster) are two variables.
    assert selfmanaged.password_env("aws/us-east-1", login) != variable


def test_a_self_managed_cluster_and_its_mirrormaker_cost_nothing_but_traffic_to_it_is_paid() -> None:
    plan = plan_for("regional-clusters")
    load = traffic.Traffic(messages_per_second=1000, payload_bytes=1000)
    flows = traffic.flows(plan, load)
    cost = traffic.monthly_cost(plan, flows, traffic.DEFAULT_PRICES)
    without = build_plan(
        config_of(
            self_managed_file_raw(
                "regional-clusters",
                regions={key: v for key, v in SELF_MANAGED_REGIONS.items() if key != SELF_MANAGED_KEY},
                **{ADMIN_PASSWORD_KEY: None},
            )
        )
    )
    base = traffic.monthly_cost(without, traffic.flows(without, load), traffic.DEFAULT_PRICES)
    assert cost.clusters == base.clusters
    assert cost.mirrors == base.mirrors
    # The hub's copy to the self-managed cluster leaves AWS: counted, and paid by AWS.
    flow = f"aws/us-east-1->{SELF_MANAGED_KEY}"
    assert flows.mirrored_by_flow[flow] > 0
    assert flows.by_payer[(traffic.CROSS_CLOUD, geo.AWS)] > 0
    # What the self-managed region sends leaves no cloud: counted, priced at nothing.
    assert flows.by_payer[(traffic.CROSS_CLOUD, geo.SELF_MANAGED)] > 0


def test_the_regional_api_skips_a_self_managed_region_and_refuses_a_backend_there() -> None:
    """Entry points are load balancers the stack makes in a cloud; it makes none in a self-managed region."""
    served = {"aws/us-east-1": aws_backend("us-east-1"), "gcp/europe-west1": "skip"}
    plan = plan_for(api=api_key({**served, SELF_MANAGED_KEY: "skip"}))
    assert plan.api is not None and SELF_MANAGED_KEY in plan.api.skipped
    problems = problems_of(self_managed_file_raw(api=api_key({**served, SELF_MANAGED_KEY: aws_backend("us-east-1")})))
    assert [p.key for p in problems] == [f"{k('api')}.backends.{SELF_MANAGED_KEY}"]
    assert "set 'skip'" in problems[0].fix


def test_with_a_standby_hub_it_can_fail_over_and_its_flow_follows_the_active_hub() -> None:
    plan = plan_for("regional-clusters", standbyHub="gcp/europe-west1")
    standby = "gcp/europe-west1/standby"
    services = plan.principals[access.services_key(SELF_MANAGED_KEY)]
    assert services.grants[standby].auth == Auth.GCP_KEY
    failover = plan.routing[SELF_MANAGED_KEY].failover
    assert failover is not None and failover.consume_cluster == SELF_MANAGED_KEY
    destinations = {o.destination.split()[0] for o in selfmanaged.openings(plan) if o.source == "10.50.0.0/16"}
    assert destinations == {"aws/us-east-1", standby}
    flipped = plan_for("regional-clusters", standbyHub="gcp/europe-west1", activeHub="standby")
    [flow] = [f for f in flipped.mirrors.values() if f.target == SELF_MANAGED_KEY]
    assert (flow.source, flow.target, flow.mechanism) == (standby, SELF_MANAGED_KEY, MirrorMechanism.MM2_OPERATOR)


def test_a_secret_no_region_names_is_reported_without_its_value() -> None:
    """A misspelt adminPasswordKey leaves the password key unknown: the error names it, never its value."""
    raw = self_managed_raw(regions=with_region(adminPasswordKey="parisAdminPasswd"))
    with pytest.raises(ConfigError) as e:
        validate(stackfile.decode(raw), "t", lambda key: key in SECRET_KEYS)
    assert ADMIN_PASSWORD not in str(e.value)
    assert (PASSWORD, "(secret)") in [(p.key, p.value) for p in e.value.problems]


def test_a_private_ca_is_trusted_by_the_operators_worker() -> None:
    plan = plan_for(regions=with_region(caCert=CA_PEM + "\n"))
    assert plan.config.self_managed[SELF_MANAGED_KEY].ca_cert == CA_PEM
    worker = selfmanaged.operator_worker(plan, SELF_MANAGED_KEY)
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert worker[f"{prefix}ssl.truststore.type"] == "PEM"
        assert worker[f"{prefix}ssl.truststore.certificates"] == CA_PEM
    assert "ssl.truststore.type" not in selfmanaged.operator_worker(plan_for(), SELF_MANAGED_KEY)
