"""The Kafka ACLs of MSK's SCRAM logins, through pulumi-kafka, under mocks (docs/aws.md, Kafka ACLs on MSK)."""

from __future__ import annotations

import pytest

from infra import kafka_acls
from infra.components.aws import msk
from infra.components.base import RealizationError
from infra.components.kafka.acls import OPERATIONS, PATTERNS, RESOURCE_TYPES
from infra.kinds import Auth
from tests.support.program import of_type, plan_of, run_main
from tests.support.stacks import AWS_HUB, raw_config, stack_file_config

ACL = "kafka:index/acl:Acl"
KAFKA_PROVIDER = "pulumi:providers:kafka"
MSK_CLUSTER = "aws:msk/cluster:Cluster"
MSK_CONFIGURATION = "aws:msk/configuration:Configuration"


def _wire(acl: kafka_acls.Acl) -> dict[str, str]:
    return {
        "aclPrincipal": acl.principal,
        "aclHost": "*",
        "aclOperation": OPERATIONS[acl.operation],
        "aclPermissionType": "Allow",
        "aclResourceType": RESOURCE_TYPES[acl.resource],
        "aclResourceName": acl.name,
        "resourcePatternTypeFilter": PATTERNS[acl.pattern],
    }


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_each_msk_cluster_gets_exactly_the_planned_acls_of_its_scram_logins(stack: str) -> None:
    config = stack_file_config(stack)
    plan = plan_of(config, stack)
    regs, _, refused = run_main(config, stack)
    assert refused is None
    by_urn = {r.urn: r for r in regs}
    expected = kafka_acls.acls(plan)
    clusters = msk.acl_clusters(plan)
    assert clusters, f"{stack}: no MSK cluster with SCRAM logins"
    for key in clusters:
        name = plan.clusters[key].name
        provider = next(r for r in of_type(regs, KAFKA_PROVIDER) if r.name == f"{name}-admin")
        mine = [r for r in of_type(regs, ACL) if r.provider == provider.urn]
        got = sorted((r.inputs for r in mine), key=lambda i: sorted(i.items()))
        want = sorted((_wire(a) for a in expected[key]), key=lambda i: sorted(i.items()))
        assert got == want, key
        # Only the SCRAM logins of this cluster get entries: IAM governs the rest.
        assert {r.inputs["aclPrincipal"] for r in mine} == {f"User:{login}" for login in plan.logins(key)}
        # Every ACL sits in the cluster's component.
        cluster = next(r for r in of_type(regs, MSK_CLUSTER) if r.name == name)
        assert all(by_urn[by_urn[r.parent].parent].urn == cluster.parent for r in mine)
    assert len(of_type(regs, ACL)) == sum(len(expected[k]) for k in clusters)


def test_the_admin_provider_reaches_the_brokers_iam_listeners_over_tls() -> None:
    """MSK ignores Kafka ACLs for IAM identities ("IAM access control", Amazon MSK Developer Guide), so
    an IAM administrator is never locked out by `allow.everyone.if.no.acl.found=false`; MSK has no
    `super.users`, so a SCRAM administrator would be (docs/aws.md, Kafka ACLs on MSK)."""
    role = "arn:aws:iam::123456789012:role/kafka-admin"
    config = raw_config(
        "regional-clusters", AWS_HUB, kafkaAdmin={"from": "in-network", "region": "aws/us-east-1", "roleArn": role}
    )
    regs, _, refused = run_main(config)
    assert refused is None
    (provider,) = of_type(regs, KAFKA_PROVIDER)
    cluster = next(r for r in of_type(regs, MSK_CLUSTER) if r.name == provider.name.removesuffix("-admin"))
    inputs = provider.inputs
    assert inputs["tlsEnabled"] in (True, "true")
    assert inputs["saslMechanism"] == "aws-iam"
    assert inputs["saslAwsRegion"] == "us-east-1"
    assert inputs["saslAwsRoleArn"] == role
    assert inputs["kafkaVersion"] == "3.9.0"
    # The IAM listeners (9098), never the SCRAM ones, and no SCRAM password anywhere in its config.
    assert "9098" in str(inputs["bootstrapServers"]) and "9096" not in str(inputs["bootstrapServers"])
    assert not {k for k in inputs if k.startswith("saslPassword") or k == "saslUsername"}
    assert cluster.inputs["clientAuthentication"]["sasl"] == {"iam": True, "scram": True}


def test_no_acl_means_no_access_for_scram_and_iam_stays_on_every_msk_cluster() -> None:
    """MSK sets `allow.everyone.if.no.acl.found` to true by default ("Apache Kafka ACLs", Amazon MSK
    Developer Guide); false makes a SCRAM login's missing ACL a denial. The setting has no effect on IAM
    clients ("IAM access control"), so every cluster keeps IAM on and IAM principals are not locked out."""
    config = stack_file_config("prod")
    plan = plan_of(config, "prod")
    regs, _, _ = run_main(config, "prod")
    for conf in of_type(regs, MSK_CONFIGURATION):
        assert "allow.everyone.if.no.acl.found=false\n" in conf.inputs["serverProperties"]
    for cluster in of_type(regs, MSK_CLUSTER):
        assert cluster.inputs["clientAuthentication"]["sasl"]["iam"] is True
    iam = {
        p.key
        for p in plan.principals.values()
        for g in p.grants.values()
        if g.auth == Auth.AWS_IAM and plan.clusters[g.cluster].region.cloud == "aws"
    }
    assert iam, "prod has AWS principals on MSK"
    assert all(g.login is None for p in iam for g in plan.principals[p].grants.values() if g.auth == Auth.AWS_IAM)


def test_without_kafka_admin_the_stack_is_refused_before_anything_is_registered() -> None:
    regs, _, refused = run_main(raw_config("topic-per-region", AWS_HUB, kafkaAdmin=None))
    assert isinstance(refused, RealizationError)
    assert regs == []
    (problem,) = [p for p in refused.problems if "kafkaAdmin" in p]
    assert "cluster aws/us-east-1" in problem and "from: in-network" in problem


def test_an_aws_only_stack_needs_no_kafka_admin_and_gets_no_acls() -> None:
    regs, _, refused = run_main(raw_config("topic-per-region"))
    assert refused is None
    assert not of_type(regs, ACL) and not of_type(regs, KAFKA_PROVIDER)
