"""Managed Kafka cluster and topics under mocks: capacity, subnet, logins, protection."""

import ipaddress
import re

import pulumi
import pulumi_gcp as gcp
import pytest

from infra.components.gcp.managed_kafka import GCP_CLIENT, GIB, ManagedKafkaCluster, ManagedKafkaClusterArgs, account_id
from infra.components.gcp.topics import ManagedKafkaTopics, ManagedKafkaTopicsArgs
from infra.config import ManagedKafkaSettings
from infra.geo import Region
from tests.support.stacks import AWS_HUB, make_plan

CLUSTER = "gcp:managedkafka/cluster:Cluster"
EUROPE = Region("gcp", "europe-west1", ipaddress.ip_network("10.30.0.0/16"))
SUBNET = "projects/p/regions/europe-west1/subnetworks/mck-gcp-europe-west1"


def build(settings=ManagedKafkaSettings(vcpu_count=6, memory_gib=24), foreign=(), protect=True):
    def program():
        provider = gcp.Provider("europe", project="p", region="europe-west1")
        cluster = ManagedKafkaCluster(
            "mck-gcp-europe-west1",
            ManagedKafkaClusterArgs("p", EUROPE, SUBNET, settings, foreign, protect),
            pulumi.ResourceOptions(provider=provider),
        )
        return {
            "aws": cluster.bootstrap("aws"),
            "gcp": cluster.bootstrap("gcp"),
            "path": cluster.path,
            "gcpClient": cluster.client_properties(None),
            "usernames": {k: v.username for k, v in cluster.logins.items()},
        }

    return program


def test_capacity_from_config_in_vcpus_and_bytes(run):
    reg, _, _ = run(build())
    capacity = reg.one(CLUSTER).inputs["capacityConfig"]
    assert capacity == {"vcpuCount": "6", "memoryBytes": str(24 * GIB)}


def test_attached_to_the_regions_subnet_in_its_region_with_no_public_access(run):
    reg, _, value = run(build())
    cluster = reg.one(CLUSTER)
    assert cluster.inputs["location"] == "europe-west1" and reg.provider_region(cluster) == "europe-west1"
    access = cluster.inputs["gcpConfig"]["accessConfig"]
    assert access["networkConfigs"] == [{"subnet": SUBNET}]
    assert "publicClusterConfig" not in access
    assert value["path"] == "projects/p/locations/europe-west1/clusters/mck-gcp-europe-west1"


def test_one_listener_for_both_clouds(run):
    _, _, value = run(build())
    assert value["aws"] == value["gcp"] == "bootstrap.mck-gcp-europe-west1.europe-west1.managedkafka.p.cloud.goog:9092"


@pytest.mark.parametrize("protect", [True, False])
def test_cluster_is_retained_on_delete_and_protected_as_asked(run, protect):
    reg, _, _ = run(build(protect=protect))
    for type_ in (CLUSTER, "gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"):
        r = reg.one(type_)
        assert (r.protect, r.retain_on_delete) == (protect, True), type_


def test_data_at_rest_under_a_customer_key_of_its_region_that_only_the_service_agent_uses(run):
    """ "Configure message encryption" (Managed Service for Apache Kafka): a CMEK is set when the cluster
    is created, in the cluster's region, and the service agent
    service-PROJECT_NUMBER@gcp-sa-managedkafka.iam.gserviceaccount.com needs
    roles/cloudkms.cryptoKeyEncrypterDecrypter on it before."""
    reg, m, _ = run(build())
    ring = reg.one("gcp:kms/keyRing:KeyRing")
    key = reg.one("gcp:kms/cryptoKey:CryptoKey")
    grant = reg.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    cluster = reg.one(CLUSTER)
    assert ring.inputs["location"] == "europe-west1" and key.inputs["keyRing"] == f"{ring.name}-id"
    assert key.inputs["rotationPeriod"] == "7776000s" and key.inputs["purpose"] == "ENCRYPT_DECRYPT"
    assert cluster.inputs["gcpConfig"]["kmsKey"] == f"{key.name}-id"
    assert grant.inputs["cryptoKeyId"] == f"{key.name}-id"
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert re.fullmatch(
        r"serviceAccount:service-\d+@gcp-sa-managedkafka\.iam\.gserviceaccount\.com", grant.inputs["member"]
    )
    assert grant.urn in cluster.dependencies
    assert [token for token, _ in m.calls] == ["gcp:organizations/getProject:getProject"]


def test_no_foreign_clients_no_service_accounts_or_keys(run):
    reg, _, value = run(build())
    assert not reg.of_type("gcp:serviceaccount/account:Account") and not reg.of_type("gcp:serviceaccount/key:Key")
    assert value["gcpClient"] == GCP_CLIENT


def test_each_foreign_login_gets_a_service_account_and_a_key_and_no_project_role(run):
    reg, _, value = run(build(foreign=("aws/us-east-1", "aws/us-west-2")))
    accounts = reg.of_type("gcp:serviceaccount/account:Account")
    assert sorted(a.inputs["accountId"] for a in accounts) == sorted(
        account_id("mck-gcp-europe-west1", r) for r in ("aws/us-east-1", "aws/us-west-2")
    )
    assert sorted(f"{a.inputs['accountId']}@p.iam.gserviceaccount.com" for a in accounts) == sorted(
        value["usernames"].values()
    )
    # What a login may do, the connect permission included, is GcpAccess's (tests/components/gcp/test_access.py).
    assert not reg.of_type("gcp:projects/iAMMember:IAMMember")
    keys = reg.of_type("gcp:serviceaccount/key:Key")
    assert len(keys) == 2 and all("keepers" not in k.inputs for k in keys)


def test_a_new_rotation_generation_gives_every_key_new_keepers(run):
    def program():
        provider = gcp.Provider("europe", project="p", region="europe-west1")
        ManagedKafkaCluster(
            "mck-gcp-europe-west1",
            ManagedKafkaClusterArgs("p", EUROPE, SUBNET, foreign_clients=("aws/us-east-1",), key_rotation=2),
            pulumi.ResourceOptions(provider=provider),
        )

    reg, _, _ = run(program)
    (key,) = reg.of_type("gcp:serviceaccount/key:Key")
    assert key.inputs["keepers"] == {"rotation": "2"}


def test_account_ids_fit_gcp_limits_and_differ_per_region():
    ids = {account_id("a-twenty-char-prefix-gcp-asia-southeast1", r) for r in ("aws/us-east-1", "aws/us-east-2")}
    assert len(ids) == 2
    assert all(6 <= len(i) <= 30 and i[0].isalpha() and i[-1].isalnum() for i in ids)


def test_topics_carry_the_planned_settings_and_are_retained(run):
    plan = make_plan("regional-clusters", AWS_HUB)
    planned = plan.topics["gcp/europe-west1"]

    def program():
        provider = gcp.Provider("europe", project="p", region="europe-west1")
        ManagedKafkaTopics(
            "t",
            ManagedKafkaTopicsArgs("p", "europe-west1", "mck-gcp-europe-west1", planned, protect=True),
            pulumi.ResourceOptions(provider=provider),
        )

    reg, _, _ = run(program)
    topics = reg.of_type("gcp:managedkafka/topic:Topic")
    assert {t.inputs["topicId"] for t in topics} == set(planned)
    for t in topics:
        s = planned[t.inputs["topicId"]].settings
        assert t.inputs["partitionCount"] == s.partitions and t.inputs["replicationFactor"] == s.replication_factor
        assert t.inputs["configs"] == s.kafka_config()
        assert t.inputs["cluster"] == "mck-gcp-europe-west1" and t.inputs["location"] == "europe-west1"
        assert (t.protect, t.retain_on_delete) == (True, True)
