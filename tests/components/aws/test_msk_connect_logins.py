"""MirrorMaker 2 on MSK Connect under mocks: logins in Secrets Manager, connector configs with references only."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from infra import mirrormaker, secretrefs
from infra.components.architecture import component_for
from infra.components.aws.msk_connect import MskConnectMirror, MskConnectMirrorArgs
from infra.components.crosscloud.endpoints import Login, Side
from infra.kinds import MirrorMechanism
from infra.plan import MirrorFlow
from tests.support import mocks
from tests.support.mocks import Registry, secret, unsecret
from tests.support.outputs import mock_arn
from tests.support.stacks import GCP_HUB, make_plan

CONNECTOR = "aws:mskconnect/connector:Connector"
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
PLAN = make_plan("regional-clusters", GCP_HUB, hub="gcp/europe-west1")
INTO_AWS = [f for f in PLAN.mirrors.values() if f.mechanism == MirrorMechanism.MM2_MSK_CONNECT]


@pytest.fixture(scope="module")
def reg() -> Registry:
    registry, _, _ = mocks.run_registry(lambda: component_for(PLAN)("mck-test", PLAN))
    return registry


def secret_values(value: Any) -> list[str]:
    """Every string a recorded input holds as a Pulumi secret, however deep, and the password of every
    JSON login among them (Secrets Manager's secret strings)."""
    plain, is_secret = unsecret(value)
    if is_secret and isinstance(plain, str):
        try:
            doc = json.loads(plain)
        except ValueError:
            return [plain]
        return [plain, doc["password"]] if isinstance(doc, dict) and "password" in doc else [plain]
    items = plain.values() if isinstance(plain, dict) else plain if isinstance(plain, list) else []
    return [s for v in items for s in secret_values(v)]


def test_no_connector_configuration_holds_a_password_or_a_key(reg: Registry):
    """Every secret the program makes (service account keys, SCRAM passwords, the logins' secret strings) is
    absent from every MSK Connect connector configuration, which is no Pulumi secret at all."""
    secrets = {s for r in reg.all for s in secret_values(r.inputs)}
    versions = reg.of_type(VERSION)
    keys = [json.loads(secret(v.inputs["secretString"]))["password"] for v in versions if "-login" in v.name]
    assert len(keys) == len(INTO_AWS) and set(keys) <= secrets, "each flow reads the GCP hub with a key"
    connectors = reg.of_type(CONNECTOR)
    assert len(connectors) == 2 * len(INTO_AWS)
    for c in connectors:
        config, is_secret = unsecret(c.inputs["connectorConfiguration"])
        assert not is_secret
        text = json.dumps(config)
        assert not [s for s in secrets if s in text], c.name
        assert "${secretsmanager:" in config["source.cluster.sasl.jaas.config"]
        assert config["config.action.reload"] == "none"


def test_each_login_is_a_secret_under_the_flows_key_used_only_through_secrets_manager(reg: Registry):
    secrets = {s.name: s for s in reg.of_type(SECRET) if s.name.endswith("-login")}
    assert sorted(secrets) == sorted(f"{PLAN.flow_name(f)}-source-login" for f in INTO_AWS)
    keys = {k.name: k for k in reg.of_type("aws:kms/key:Key")}
    for flow in INTO_AWS:
        name = PLAN.flow_name(flow)
        s = secrets[f"{name}-source-login"]
        assert s.inputs["name"] == secretrefs.secret_name(name, "source")
        # A flow dropped and planned again within 30 days must find its secret's name free.
        assert s.inputs["recoveryWindowInDays"] == 0
        key = keys[f"{name}-logins"]
        assert s.inputs["kmsKeyId"] == mock_arn(key.type, key.name, reg.provider_region(key))
        policy = json.loads(key.inputs["policy"])
        (use,) = [st for st in policy["Statement"] if st["Sid"].startswith("UsedOnlyThrough")]
        region = PLAN.clusters[flow.target].region.name
        assert use["Condition"]["StringEquals"]["kms:ViaService"] == [f"secretsmanager.{region}.amazonaws.com"]
        assert key.inputs["enableKeyRotation"] is True
    for v in reg.of_type(VERSION):
        login = json.loads(secret(v.inputs["secretString"]))
        assert set(login) == {"username", "password"} and login["password"]


def test_the_execution_role_may_read_its_own_flows_secrets_and_nothing_else(reg: Registry):
    arns = {mock_arn(s.type, s.name, reg.provider_region(s)): s.name for s in reg.of_type(SECRET)}
    policies = [p for p in reg.of_type("aws:iam/rolePolicy:RolePolicy") if "ReadLogins" in p.inputs["policy"]]
    assert len(policies) == len(INTO_AWS)
    for flow in INTO_AWS:
        name = PLAN.flow_name(flow)
        (policy,) = [p for p in policies if p.name == f"{name}-role"]
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        read = statements["ReadLogins"]
        assert read["Action"] == "secretsmanager:GetSecretValue"
        assert [arns[a] for a in read["Resource"]] == [f"{name}-source-login"]
        decrypt = statements["DecryptLogins"]
        key = reg.named(f"{name}-logins", "aws:kms/key:Key")
        assert decrypt["Action"] == "kms:Decrypt"
        assert decrypt["Resource"] == [mock_arn(key.type, key.name, reg.provider_region(key))]
        region = PLAN.clusters[flow.target].region.name
        assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}
        other = [s["Resource"] for sid, s in statements.items() if sid not in ("ReadLogins", "DecryptLogins")]
        assert not any("secretsmanager" in a or ":kms" in a for r in other for a in r)


def test_the_worker_configuration_declares_the_provider_for_the_target_region(reg: Registry):
    configs = {w.name: w for w in reg.of_type("aws:mskconnect/workerConfiguration:WorkerConfiguration")}
    for flow in INTO_AWS:
        text = configs[f"{PLAN.flow_name(flow)}-workers"].inputs["propertiesFileContent"]
        props = dict(line.split("=", 1) for line in text.splitlines())
        region = PLAN.clusters[flow.target].region.name
        assert props["config.providers"] == secretrefs.PROVIDER
        assert props[f"config.providers.{secretrefs.PROVIDER}.class"] == secretrefs.PROVIDER_CLASS
        assert props[f"config.providers.{secretrefs.PROVIDER}.param.region"] == region
        assert "endpoint" not in text, "the regional name, resolved to the VPC endpoint by private DNS"


def test_workers_reach_secrets_manager_through_an_interface_endpoint_of_their_vpc(reg: Registry):
    """The VPC has no route to the internet: Secrets Manager is reached through its interface endpoint with
    private DNS ("Access AWS Secrets Manager using an AWS PrivateLink endpoint", Secrets Manager User Guide),
    and the connectors are created after it."""
    endpoints = {reg.provider_region(e): e for e in reg.of_type(ENDPOINT)}
    targets = {PLAN.clusters[f.target].region.name for f in INTO_AWS}
    assert set(endpoints) == targets, "one endpoint per VPC that runs workers with logins"
    groups = {g.name: g for g in reg.of_type("aws:ec2/securityGroup:SecurityGroup")}
    for region, e in endpoints.items():
        assert e.inputs["serviceName"] == f"com.amazonaws.{region}.secretsmanager"
        assert e.inputs["vpcEndpointType"] == "Interface" and e.inputs["privateDnsEnabled"] is True
        assert len(e.inputs["subnetIds"]) >= 2
        (group,) = [g for g in groups.values() if g.name == e.name]
        cidr = next(str(r.cidr) for r in PLAN.config.regions.values() if r.name == region)
        assert [(i["fromPort"], i["cidrBlocks"]) for i in group.inputs["ingress"]] == [(443, [cidr])]
    for c in reg.of_type(CONNECTOR):
        region = reg.provider_region(c)
        assert endpoints[region].urn in c.dependencies


FLOW = MirrorFlow("gcp/x->aws/y", "gcp/europe-west1", "aws/us-east-1", ("A",), MirrorMechanism.MM2_MSK_CONNECT)


def test_a_target_reached_with_scram_gets_its_own_secret_and_reference_too(run, tmp_path):
    """Both sides with logins (a SCRAM target, as a self-managed Kafka would be): two secrets, two references."""
    plugin = tmp_path / "plugin.zip"
    plugin.write_bytes(b"PK")

    def program() -> None:
        endpoint = aws.ec2.VpcEndpoint("sm", vpc_id="vpc-1", service_name="com.amazonaws.us-east-1.secretsmanager")
        source = Side("gcp-x", "gmk:9092", login=Login("PLAIN", "sa@p.iam", pulumi.Output.secret("a-service-key")))
        target = Side("aws-y", "b-1:9096", login=Login("SCRAM-SHA-512", "mirror", pulumi.Output.secret("a-password")))
        MskConnectMirror(
            "mck-x-to-y",
            MskConnectMirrorArgs(
                flow=FLOW,
                source=source,
                target=target,
                target_cluster_arn="arn:aws:kafka:us-east-1:123456789012:cluster/y/uuid",
                groups=("svc-y",),
                vpc_id="vpc-1",
                subnet_ids=["s-1", "s-2", "s-3"],
                source_cidr="10.30.0.0/16",
                source_ports=[9092],
                target_cidr="10.10.0.0/16",
                region="us-east-1",
                log_key_arn="arn:aws:kms:us-east-1:123456789012:key/logs",
                log_retention_days=30,
                secrets_endpoint=endpoint,
                plugin_zip=str(plugin),
            ),
            pulumi.ResourceOptions(),
        )

    reg, _, _ = run(program)
    assert sorted(s.inputs["name"] for s in reg.of_type(SECRET)) == [
        "mck-x-to-y/source-login",
        "mck-x-to-y/target-login",
    ]
    for c in reg.of_type(CONNECTOR):
        config, is_secret = unsecret(c.inputs["connectorConfiguration"])
        assert not is_secret and "a-service-key" not in json.dumps(config) and "a-password" not in json.dumps(config)
        assert "/target-login#" in config["target.cluster.sasl.jaas.config"]
        assert config["target.cluster.sasl.jaas.config"].startswith(secretrefs.LOGIN_MODULES["SCRAM-SHA-512"])
        assert config["target.cluster.sasl.mechanism"] == "SCRAM-SHA-512"
    names = mirrormaker.connector_names(FLOW)
    assert {c.inputs["name"] for c in reg.of_type(CONNECTOR)} == set(names.values())


def test_a_login_without_the_vpcs_secrets_manager_endpoint_is_refused(run, tmp_path):
    plugin = tmp_path / "plugin.zip"
    plugin.write_bytes(b"PK")

    def program() -> None:
        source = Side("gcp-x", "gmk:9092", login=Login("PLAIN", "sa@p.iam", pulumi.Output.secret("k")))
        MskConnectMirror(
            "mck-x-to-y",
            MskConnectMirrorArgs(
                FLOW,
                source,
                Side("aws-y", "b-1:9098", {}),
                "arn",
                ("g",),
                "vpc",
                ["s"],
                "10.30.0.0/16",
                [9092],
                "10.10.0.0/16",
                "us-east-1",
                "arn:key",
                30,
                plugin_zip=str(plugin),
            ),
            pulumi.ResourceOptions(),
        )

    with pytest.raises(Exception, match="needs the VPC's Secrets Manager endpoint"):
        run(program)
