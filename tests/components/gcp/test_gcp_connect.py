"""MirrorMaker 2 on Managed Kafka Connect under mocks: primary cluster, connectors, secrets."""

import json

import pulumi
import pulumi_gcp as gcp

from infra import access, mirrormaker
from infra.components.architecture import component_for
from infra.components.crosscloud.endpoints import msk_scram
from infra.components.gcp.connect import ManagedKafkaMirror, ManagedKafkaMirrorArgs, dns_domain
from infra.components.gcp.managed_kafka import GCP_CLIENT
from infra.kinds import MirrorMechanism
from infra.plan import MirrorFlow
from tests.support.mocks import secret, unsecret
from tests.support.stacks import AWS_HUB, make_plan

CONNECT = "gcp:managedkafka/connectCluster:ConnectCluster"
CONNECTOR = "gcp:managedkafka/connector:Connector"
FLOW = MirrorFlow(
    "aws/us-east-1->gcp/europe-west1",
    "aws/us-east-1",
    "gcp/europe-west1",
    ("CREATE_ACCOUNT_GCP_EUROPE_WEST1", "UPDATE_PROFILE_GCP_EUROPE_WEST1"),
    MirrorMechanism.MM2_GCP_CONNECT,
)
TARGET = "projects/p/locations/europe-west1/clusters/mck-gcp-europe-west1"
SUBNET = "projects/p/regions/europe-west1/subnetworks/mck-gcp-europe-west1"
GMK = "bootstrap.mck-gcp-europe-west1.europe-west1.managedkafka.p.cloud.goog:9092"


def configs(connector) -> dict:
    """A connector's configuration, whether or not Pulumi holds it as a secret."""
    return unsecret(connector.inputs["configs"])[0]


def build(domains=()):
    def program():
        provider = gcp.Provider("europe", project="p", region="europe-west1")
        source = mirrormaker.Endpoint(
            "aws-us-east-1", "b-1.hub:9096", msk_scram("gcp-europe-west1", pulumi.Output.secret("s3cret"))
        )
        target = mirrormaker.Endpoint("gcp-europe-west1", GMK, dict(GCP_CLIENT))
        ManagedKafkaMirror(
            "mck-aws-us-east-1-to-gcp-europe-west1",
            ManagedKafkaMirrorArgs("p", "europe-west1", FLOW, TARGET, SUBNET, source, target, list(domains)),
            pulumi.ResourceOptions(provider=provider),
        )

    return program


def test_the_connect_cluster_runs_on_the_target_in_its_subnet(run):
    reg, _, _ = run(build())
    connect = reg.one(CONNECT)
    assert connect.inputs["kafkaCluster"] == TARGET and connect.inputs["location"] == "europe-west1"
    (net,) = connect.inputs["gcpConfig"]["accessConfig"]["networkConfigs"]
    assert net == {"primarySubnet": SUBNET}
    assert int(connect.inputs["capacityConfig"]["vcpuCount"]) >= 3
    assert int(connect.inputs["capacityConfig"]["memoryBytes"]) >= 3 * 1024**3


def test_source_and_checkpoint_connectors_carry_exactly_the_flows_topics(run):
    reg, _, _ = run(build())
    connectors = {c.inputs["connectorId"]: c for c in reg.of_type(CONNECTOR)}
    names = mirrormaker.connector_names(FLOW)
    assert set(connectors) == set(names.values())
    for connector in connectors.values():
        config = configs(connector)
        assert config["topics"] == ",".join(FLOW.topics)
        assert config["replication.policy.class"] == mirrormaker.IDENTITY
        assert config["target.cluster.bootstrap.servers"] == GMK
        assert config["target.cluster.sasl.mechanism"] == "OAUTHBEARER"
        assert config["source.cluster.bootstrap.servers"] == "b-1.hub:9096"
    assert configs(connectors[names["source"]])["connector.class"] == mirrormaker.SOURCE
    assert configs(connectors[names["checkpoint"]])["connector.class"] == mirrormaker.CHECKPOINT


def test_the_configuration_is_the_generators_own(run):
    reg, _, _ = run(build())
    source = mirrormaker.Endpoint("aws-us-east-1", "b-1.hub:9096", {})
    target = mirrormaker.Endpoint("gcp-europe-west1", GMK, {})
    expected = mirrormaker.connector_configs(FLOW, source, target)
    for connector in reg.of_type(CONNECTOR):
        got = configs(connector)
        want = expected[connector.inputs["connectorId"]]
        plain = {k: v for k, v in got.items() if not k.startswith(("source.cluster.s", "target.cluster.s"))}
        assert plain == want


def test_the_sources_password_is_a_secret(run):
    reg, _, _ = run(build())
    for connector in reg.of_type(CONNECTOR):
        config = secret(connector.inputs["configs"])
        jaas = config["source.cluster.sasl.jaas.config"]
        assert 'username="gcp-europe-west1"' in jaas and 'password="s3cret"' in jaas
        assert config["source.cluster.sasl.mechanism"] == "SCRAM-SHA-512"


def test_private_dns_domains_are_made_visible_only_when_given(run):
    reg, _, _ = run(build(domains=["c.asia-southeast1.managedkafka.p.cloud.goog"]))
    (net,) = reg.one(CONNECT).inputs["gcpConfig"]["accessConfig"]["networkConfigs"]
    assert net["dnsDomainNames"] == ["c.asia-southeast1.managedkafka.p.cloud.goog"]


def test_dns_domain_of_a_managed_kafka_bootstrap(run):
    _, _, value = run(lambda: dns_domain(GMK))
    assert value == "mck-gcp-europe-west1.europe-west1.managedkafka.p.cloud.goog"


def test_in_a_plan_each_flow_into_gcp_reads_the_hub_with_its_own_scram_login(run):
    plan = make_plan("regional-clusters", AWS_HUB)
    reg, _, _ = run(lambda: component_for(plan)("mck-test", plan))
    flows = [f for f in plan.mirrors.values() if f.mechanism == MirrorMechanism.MM2_GCP_CONNECT]
    connects = reg.of_type(CONNECT)
    assert len(connects) == len(flows) == 2
    # user -> the password MSK holds for that user in Secrets Manager.
    stored = {
        (login := json.loads(secret(v.inputs["secretString"])))["username"]: login["password"]
        for v in reg.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    for flow in flows:
        target = plan.clusters[flow.target]
        (connect,) = [c for c in connects if c.inputs["kafkaCluster"].endswith(f"/clusters/{target.name}")]
        assert connect.inputs["location"] == target.region.name
        user = access.mirror_login(flow)
        assert user not in {access.scram_username(r) for r in plan.config.regions.values()}
        mine = [
            c for c in reg.of_type(CONNECTOR) if c.inputs["connectorId"] in mirrormaker.connector_names(flow).values()
        ]
        assert len(mine) == 2
        for c in mine:
            config = secret(c.inputs["configs"])
            assert config["topics"] == ",".join(flow.topics)
            assert config["source.cluster.bootstrap.servers"].endswith(":9096")
            jaas = config["source.cluster.sasl.jaas.config"]
            assert f'username="{user}" password="{stored[user]}"' in jaas
