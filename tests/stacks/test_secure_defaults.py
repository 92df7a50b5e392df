"""Secure by default, all the way down (issue 17), on every repo stack and on mixed stacks with an AWS and a GCP hub:
every VPC logs its flows and has its default security group managed with no rules, every GCP subnet but proxy-only
ones logs its flows, every KMS key has a policy naming its users, every log group has a customer key and the
stack's retention."""

from __future__ import annotations

import functools
import json

import pytest

from infra import stackfile
from policy import rules
from tests.policy.policy_support import resources_of
from tests.support import mocks
from tests.support.program import plan_of, run_main
from tests.support.stacks import AWS_HUB, GCP_HUB, raw_config, stack_file_config

MIXED = {
    "aws-hub": raw_config("regional-clusters", AWS_HUB, hub="aws/us-east-1"),
    "gcp-hub": raw_config("regional-clusters", GCP_HUB, hub="gcp/europe-west1"),
}
CASES = [*stackfile.stacks(), *MIXED]


def config_of(case: str) -> dict[str, str]:
    return MIXED[case] if case in MIXED else stack_file_config(case)


@functools.cache
def resources(case: str) -> tuple[rules.Resource, ...]:
    registrations, _, refused = run_main(config_of(case), case)
    assert refused is None
    return tuple(resources_of(registrations))


def of_type(case: str, type_: str) -> list[rules.Resource]:
    return [r for r in resources(case) if r.type == type_]


@pytest.mark.parametrize("case", CASES)
def test_each_vpc_has_a_flow_log_of_all_its_traffic_and_a_closed_default_security_group(case):
    vpcs = of_type(case, rules.VPC)
    assert vpcs
    for vpc in vpcs:
        flows = [f for f in of_type(case, rules.FLOW_LOG) if vpc.urn in f.dependencies]
        assert [f.props["trafficType"] for f in flows] == ["ALL"], vpc.name
        defaults = [d for d in of_type(case, rules.DEFAULT_SECURITY_GROUP) if vpc.urn in d.dependencies]
        assert len(defaults) == 1, vpc.name
        assert not defaults[0].props.get("ingress") and not defaults[0].props.get("egress")
    assert rules.flow_logs(resources(case)) == rules.default_security_groups(resources(case)) == []


@pytest.mark.parametrize("case", CASES)
def test_each_gcp_subnet_carrying_kafka_logs_its_flows_and_proxy_only_ones_do_not(case):
    for subnet in of_type(case, rules.GCP_SUBNET):
        if subnet.props.get("purpose") in rules.GCP_NO_FLOW_LOG_PURPOSES:
            assert "logConfig" not in subnet.props, subnet.name
        else:
            assert subnet.props["logConfig"]["flowSampling"] == 1.0, subnet.name
            assert subnet.props["logConfig"]["aggregationInterval"] == "INTERVAL_5_SEC"


@pytest.mark.parametrize("case", CASES)
def test_each_key_has_a_policy_naming_its_users_and_rotates(case):
    keys = of_type(case, rules.KMS_KEY)
    assert keys
    for key in keys:
        assert key.props["enableKeyRotation"] is True
        assert rules.key_policies(key) == [], key.name
        admin = json.loads(key.props["policy"])["Statement"][0]
        assert admin["Sid"] == "AccountAdministers" and admin["Principal"]["AWS"].endswith(":root")


@pytest.mark.parametrize("case", CASES)
def test_each_log_group_has_a_customer_key_and_the_stacks_retention(case):
    days = plan_of(config_of(case), case).config.log_retention_days
    keys = {r.urn for r in of_type(case, rules.KMS_KEY)}
    groups = of_type(case, rules.LOG_GROUP)
    assert groups
    for group in groups:
        assert group.props.get("kmsKeyId"), group.name
        assert group.props["retentionInDays"] == days
        assert keys & set(group.dependencies), group.name


def test_one_config_key_sets_the_retention_of_every_log_group():
    registrations, _, _ = run_main(raw_config("regional-clusters", AWS_HUB, logRetentionDays=365))
    groups = [r for r in resources_of(registrations) if r.type == rules.LOG_GROUP]
    assert {g.name.rsplit("-", 1)[-1] for g in groups} == {"flows", "brokers"}
    assert {g.props["retentionInDays"] for g in groups} == {365}


@pytest.mark.parametrize("case", CASES)
def test_the_msk_connect_plugin_bucket_is_versioned_encrypted_with_a_customer_key_and_access_logged(case):
    connects = [r for r in resources(case) if r.type == "aws:mskconnect/customPlugin:CustomPlugin"]
    buckets = {b.props["bucket"]: b for b in of_type(case, rules.S3_BUCKET)}
    logging = of_type(case, rules.BUCKET_LOGGING)
    assert len(logging) == len(connects)
    for log in logging:
        plugin, target = log.props["bucket"], log.props["targetBucket"]
        assert plugin in buckets and target in buckets and plugin != target
        versioning = [v for v in of_type(case, rules.BUCKET_VERSIONING) if v.props["bucket"] == plugin]
        assert [v.props["versioningConfiguration"]["status"] for v in versioning] == ["Enabled"]
        sse = {
            c.props["bucket"]: c.props["rules"][0]["applyServerSideEncryptionByDefault"]
            for c in of_type(case, rules.BUCKET_ENCRYPTION)
        }
        assert sse[plugin]["sseAlgorithm"] == "aws:kms" and sse[plugin]["kmsMasterKeyId"]
        assert sse[target] == {"sseAlgorithm": "AES256"}
    blocked = {d for r in resources(case) if r.type == rules.PUBLIC_ACCESS_BLOCK for d in r.dependencies}
    assert all(b.urn in blocked for b in buckets.values())
    assert rules.buckets_hardened(resources(case)) == rules.buckets_blocked(resources(case)) == []


def test_the_gcp_hub_stack_has_a_plugin_bucket():
    assert of_type("gcp-hub", rules.BUCKET_LOGGING)


@pytest.mark.parametrize("case", CASES)
def test_no_security_group_is_unused(case):
    groups = of_type(case, rules.SECURITY_GROUP)
    assert groups
    for g in groups:
        assert any(g.urn in r.dependencies for r in resources(case)), g.name
    assert rules.security_groups_used(resources(case)) == []


def test_a_spoke_without_a_cluster_gets_no_kafka_security_group():
    """staging's us-west-2 spoke only produces to the hub: no cluster, no connector, so no Kafka group."""
    plan = plan_of(config_of("staging"), "staging")
    west = plan.config.regions["aws/us-west-2"]
    assert not any(c.region == west for c in plan.clusters.values())
    names = [g.props["name"] for g in of_type("staging", rules.SECURITY_GROUP)]
    assert not [n for n in names if "us-west-2" in n and n.endswith("-kafka")]
    assert [n for n in names if n.endswith("-kafka")]


# -- SCRAM rotation: one config change, then `pulumi up` ---------------------


def scram_logins(rotation: int | None) -> tuple[dict[str, str], list, list]:
    """(secret name -> password in its version, the associations, the GCP connectors' configs as text)."""
    keys = {} if rotation is None else {"scramRotation": rotation}
    registrations, _, refused = run_main(raw_config("regional-clusters", AWS_HUB, hub="aws/us-east-1", **keys))
    assert refused is None
    by_urn = {r.urn: r for r in registrations}
    versions = {}
    for v in (r for r in registrations if r.type == "aws:secretsmanager/secretVersion:SecretVersion"):
        secret = next(by_urn[d] for d in v.dependencies if by_urn[d].type == rules.SECRET)
        versions[secret.inputs["name"]] = json.loads(mocks.secret(v.inputs["secretString"]))["password"]
    associations = [r for r in registrations if r.type == "aws:msk/scramSecretAssociation:ScramSecretAssociation"]
    connectors = [
        json.dumps(mocks.unsecret(r.inputs["configs"])[0]) for r in registrations if r.type == rules.GK_CONNECTOR
    ]
    return versions, associations, connectors


def test_raising_scram_rotation_makes_new_passwords_that_reach_the_association_and_the_connectors():
    before, _, connectors_before = scram_logins(None)
    assert before == scram_logins(0)[0], "generation 0 is the password made before rotation existed"
    after, associations, connectors_after = scram_logins(1)
    assert before and set(after) == set(before)
    assert all(after[name] != before[name] for name in before)
    assert before != scram_logins(2)[0] != after
    # The association lists every secret and waits for the versions carrying the new passwords.
    (association,) = associations
    assert len(association.inputs["secretArnLists"]) == len(after)
    assert sum(1 for d in association.dependencies if "secretVersion" in d) == len(after)
    # Every GCP connector reading MSK logs in with the new password, none with an old one.
    reading = [c for c in connectors_after if "ScramLoginModule" in c]
    assert reading
    for config in reading:
        assert any(p in config for p in after.values())
        assert not any(p in config for p in before.values())
    assert any(p in c for c in connectors_before for p in before.values())


@pytest.mark.parametrize("case", CASES)
def test_the_apis_routes_are_authorized_unless_the_config_says_the_backend_authenticates(case):
    api = plan_of(config_of(case), case).api
    routes = of_type(case, rules.API_ROUTE)
    if api is None:
        assert not routes
        return
    kinds = {r.props["routeKey"]: r.props["authorizationType"] for r in routes}
    if api.authorization.type == "backend":
        assert set(kinds.values()) == {"NONE"}
        assert {a.props["tags"][rules.API_AUTHORIZATION_TAG] for a in of_type(case, rules.HTTP_API)} == {"backend"}
    else:
        assert kinds["$default"] in ("JWT", "AWS_IAM")
    assert rules.api_routes_authorized(resources(case)) == []
