"""The MSK cluster component under mocks: encryption, auth, exposure, protection."""

import json

import pulumi
import pulumi_aws as aws
import pytest

from infra.components.aws.msk import MskCluster, MskClusterArgs, server_properties
from infra.config import MskSettings
from tests.support.mocks import unsecret
from tests.support.outputs import mock_arn

CLUSTER = "aws:msk/cluster:Cluster"


def build(settings=MskSettings(brokers_per_az=2), scram_users=(), protect=True):
    def program():
        provider = aws.Provider("east", region="us-east-1")
        cluster = MskCluster(
            "c-aws-us-east-1",
            MskClusterArgs(
                "us-east-1",
                ["s1", "s2", "s3"],
                "sg",
                "arn:aws:kms:us-east-1:123456789012:key/logs",
                settings,
                scram_users,
                protect,
            ),
            pulumi.ResourceOptions(provider=provider),
        )
        out = {"aws": cluster.bootstrap("aws")}
        if scram_users:
            out["gcp"] = cluster.bootstrap("gcp")
        return out

    return program


def test_tls_only_in_transit_and_customer_kms_key_at_rest(run):
    reg, _, _ = run(build())
    cluster = reg.one(CLUSTER)
    key = reg.named("c-aws-us-east-1-data", "aws:kms/key:Key")
    enc = cluster.inputs["encryptionInfo"]
    assert enc["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
    assert enc["encryptionAtRestKmsKeyArn"] == mock_arn("aws:kms/key:Key", key.name, "us-east-1")
    assert key.inputs["enableKeyRotation"] is True


def test_iam_auth_only_when_no_other_cloud_connects_and_no_public_access(run):
    reg, _, value = run(build())
    cluster = reg.one(CLUSTER)
    auth = cluster.inputs["clientAuthentication"]
    assert auth == {"sasl": {"iam": True, "scram": False}, "unauthenticated": False}
    assert cluster.inputs["brokerNodeGroupInfo"]["connectivityInfo"]["publicAccess"] == {"type": "DISABLED"}
    assert not reg.of_type("aws:secretsmanager/secret:Secret")
    assert value["aws"].endswith(":9098")


def test_brokers_spread_over_the_three_subnets_with_the_configured_size(run):
    reg, _, _ = run(build(MskSettings(brokers_per_az=2, instance_type="kafka.m5.large", volume_gib=250)))
    cluster = reg.one(CLUSTER)
    assert cluster.inputs["numberOfBrokerNodes"] == 6
    nodes = cluster.inputs["brokerNodeGroupInfo"]
    assert nodes["clientSubnets"] == ["s1", "s2", "s3"]
    assert nodes["securityGroups"] == ["sg"]
    assert nodes["instanceType"] == "kafka.m5.large"
    assert nodes["storageInfo"]["ebsStorageInfo"]["volumeSize"] == 250


def test_configuration_turns_off_auto_topic_creation_and_sets_durability_defaults(run):
    reg, _, _ = run(build())
    config = reg.one("aws:msk/configuration:Configuration")
    props = dict(line.split("=", 1) for line in config.inputs["serverProperties"].splitlines())
    assert props["auto.create.topics.enable"] == "false"
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props == server_properties(6)
    cluster = reg.one(CLUSTER)
    assert cluster.inputs["configurationInfo"]["revision"] == 1
    assert config.inputs["kafkaVersions"] == [cluster.inputs["kafkaVersion"]]


def test_broker_logs_go_to_cloudwatch_and_monitoring_is_enhanced(run):
    reg, _, _ = run(build())
    cluster = reg.one(CLUSTER)
    logs = cluster.inputs["loggingInfo"]["brokerLogs"]["cloudwatchLogs"]
    group = reg.one("aws:cloudwatch/logGroup:LogGroup")
    assert logs == {"enabled": True, "logGroup": group.inputs["name"]}
    assert group.inputs["retentionInDays"] > 0
    assert cluster.inputs["enhancedMonitoring"] in ("PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")


@pytest.mark.parametrize("protect", [True, False])
def test_cluster_and_what_its_data_needs_are_protected_and_retained(run, protect):
    reg, _, _ = run(build(protect=protect))
    for type_ in (CLUSTER, "aws:kms/key:Key", "aws:msk/configuration:Configuration"):
        r = reg.one(type_)
        assert (r.protect, r.retain_on_delete) == (protect, True), type_
    assert reg.one("aws:cloudwatch/logGroup:LogGroup").protect is False


def test_scram_users_get_a_kms_encrypted_secret_each_and_one_association(run):
    reg, _, value = run(build(scram_users=("gcp-europe-west1", "gcp-asia-southeast1")))
    cluster = reg.one(CLUSTER)
    assert cluster.inputs["clientAuthentication"]["sasl"] == {"iam": True, "scram": True}
    scram_key = reg.named("c-aws-us-east-1-scram", "aws:kms/key:Key")
    secrets = reg.of_type("aws:secretsmanager/secret:Secret")
    assert sorted(s.inputs["name"] for s in secrets) == [
        "AmazonMSK_c-aws-us-east-1_gcp-asia-southeast1",
        "AmazonMSK_c-aws-us-east-1_gcp-europe-west1",
    ]
    assert {s.inputs["kmsKeyId"] for s in secrets} == {mock_arn("aws:kms/key:Key", scram_key.name, "us-east-1")}
    versions = reg.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert len(versions) == 2
    for v in versions:
        text, is_secret = unsecret(v.inputs["secretString"])
        assert is_secret
        login = json.loads(text)
        assert set(login) == {"username", "password"} and len(login["password"]) == 32
    passwords = reg.of_type("random:index/randomPassword:RandomPassword")
    assert all(p.inputs["length"] == 32 for p in passwords) and len(passwords) == 2
    association = reg.one("aws:msk/scramSecretAssociation:ScramSecretAssociation")
    assert len(association.inputs["secretArnLists"]) == 2
    policies = reg.of_type("aws:secretsmanager/secretPolicy:SecretPolicy")
    assert all(
        json.loads(p.inputs["policy"])["Statement"][0]["Principal"] == {"Service": "kafka.amazonaws.com"}
        for p in policies
    )
    assert value["gcp"].endswith(":9096") and value["aws"].endswith(":9098")


def test_every_child_is_under_the_component_in_its_region(run):
    reg, _, _ = run(build(scram_users=("gcp-europe-west1",)))
    component = reg.one(MskCluster.TYPE)
    for r in reg.all:
        if r.custom and r.type != "pulumi:providers:aws":
            assert r.parent == component.urn, r.name
            assert r.name.startswith(component.name)
            if r.type.startswith("aws:"):
                assert reg.provider_region(r) == "us-east-1"
