"""A GCP hub under mocks: MSK Connect mirroring into AWS, AWS resolving GCP names."""

import base64
import json
import zipfile

import pytest

from infra import access, mirrormaker
from infra.components.architecture import component_for
from infra.components.aws.msk_connect import bucket_name, log_bucket_name
from infra.components.gcp.managed_kafka import account_id
from infra.kinds import MirrorMechanism
from infra.naming import managed_kafka_domain
from infra.plugin_jars import BUILT_JARS, PLUGIN_JARS
from tests.support.mocks import secret, unsecret
from tests.support.outputs import ACCOUNT, Resource, dns_forwarder, mock_arn, resource_outputs
from tests.support.stacks import GCP_HUB, PROJECT, make_plan

CONNECTOR = "aws:mskconnect/connector:Connector"
SECRET = "aws:secretsmanager/secret:Secret"

PLAN = make_plan("regional-clusters", GCP_HUB, hub="gcp/europe-west1")
HUB = PLAN.hub
INTO_AWS = [f for f in PLAN.mirrors.values() if f.mechanism == MirrorMechanism.MM2_MSK_CONNECT]


@pytest.fixture
def reg(run):
    registry, _, _ = run(lambda: component_for(PLAN)("mck-test", PLAN))
    return registry


def connectors_of(reg, flow):
    names = set(mirrormaker.connector_names(flow).values())
    return [c for c in reg.of_type(CONNECTOR) if c.inputs["name"] in names]


def test_the_plan_has_flows_of_both_mechanisms():
    assert {f.mechanism for f in PLAN.mirrors.values()} == {
        MirrorMechanism.MM2_MSK_CONNECT,
        MirrorMechanism.MM2_GCP_CONNECT,
    }
    assert len(INTO_AWS) == 2


def test_each_flow_into_aws_runs_source_and_checkpoint_on_msk_connect_in_the_target_region(reg):
    assert len(reg.of_type(CONNECTOR)) == 2 * len(INTO_AWS)
    for flow in INTO_AWS:
        target = PLAN.clusters[flow.target]
        mine = connectors_of(reg, flow)
        assert len(mine) == 2
        for c in mine:
            assert reg.provider_region(c) == target.region.name
            config, is_secret = unsecret(c.inputs["connectorConfiguration"])
            assert not is_secret, "no secret left in the connector configuration: it holds references only"
            assert config["topics"] == ",".join(flow.topics)
            assert config["replication.policy.class"] == mirrormaker.IDENTITY
            cluster = c.inputs["kafkaCluster"]["apacheKafkaCluster"]
            assert cluster["bootstrapServers"] == config["target.cluster.bootstrap.servers"]
            assert cluster["bootstrapServers"] == f"b-1.{target.name}.kafka.{target.region.name}.amazonaws.com:9098"
            assert c.inputs["kafkaClusterClientAuthentication"] == {"authenticationType": "IAM"}
            assert c.inputs["kafkaClusterEncryptionInTransit"] == {"encryptionType": "TLS"}
            assert c.inputs["logDelivery"]["workerLogDelivery"]["cloudwatchLogs"]["enabled"] is True
            assert c.inputs["plugins"][0]["customPlugin"]["revision"] == 1
            assert c.inputs["workerConfiguration"]["revision"] == 1


def test_mirrormaker_reads_the_gcp_hub_with_the_flows_own_service_account_key_by_reference(reg):
    keys = {k.name: k for k in reg.of_type("gcp:serviceaccount/key:Key")}
    versions = {v.name: v for v in reg.of_type("aws:secretsmanager/secretVersion:SecretVersion")}
    for flow in INTO_AWS:
        email = f"{account_id(HUB.name, access.mirror_login(flow))}@{PROJECT}.iam.gserviceaccount.com"
        name = PLAN.flow_name(flow)
        version = versions[f"{name}-source-login"]
        version_id = resource_outputs(Resource(version.type, version.name, {}))["versionId"]
        for c in connectors_of(reg, flow):
            config, _ = unsecret(c.inputs["connectorConfiguration"])
            assert config["source.cluster.bootstrap.servers"].startswith(
                f"bootstrap.{HUB.name}.{HUB.region.name}.managedkafka."
            )
            assert config["source.cluster.sasl.mechanism"] == "PLAIN"
            assert config["source.cluster.sasl.jaas.config"] == (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="{email}" password="${{secretsmanager:{name}/source-login#{version_id}:password}}";'
            )
            assert config["target.cluster.sasl.mechanism"] == "AWS_MSK_IAM"
        login = json.loads(secret(version.inputs["secretString"]))
        assert login["username"] == email
        key_id = json.loads(base64.b64decode(login["password"]))["private_key_id"]
        assert key_id == f"{HUB.name}-{access.mirror_login(flow)}" and key_id in keys


def test_the_execution_role_is_trusted_by_msk_connect_and_scoped_to_the_target(reg):
    roles = [
        r for r in reg.of_type("aws:iam/role:Role") if "MirrorMaker 2 on MSK Connect" in r.inputs.get("description", "")
    ]
    assert len(roles) == len(INTO_AWS)
    for role in roles:
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust["Statement"][0]["Principal"] == {"Service": "kafkaconnect.amazonaws.com"}
    for flow in INTO_AWS:
        target = PLAN.clusters[flow.target]
        (policy,) = [
            p for p in reg.of_type("aws:iam/rolePolicy:RolePolicy") if f"cluster/{target.name}/" in p.inputs["policy"]
        ]
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        flow_topics = statements["FlowTopics"]["Resource"]
        assert sorted(a.rsplit("/", 1)[1] for a in flow_topics) == sorted(flow.topics)
        logins = {"ReadLogins", "DecryptLogins"}
        assert all(f"/{target.name}/" in a for k, s in statements.items() if k not in logins for a in s["Resource"])
        secrets = {mock_arn(r.type, r.name, reg.provider_region(r)): r.name for r in reg.of_type(SECRET)}
        read = statements["ReadLogins"]["Resource"]
        assert [secrets[a] for a in read] == [f"{PLAN.flow_name(flow)}-source-login"]


def test_the_plugin_is_kafkas_mirrormaker_in_a_private_bucket(reg):
    plugins = reg.of_type("aws:mskconnect/customPlugin:CustomPlugin")
    assert len(plugins) == len(INTO_AWS) and all(p.inputs["contentType"] == "ZIP" for p in plugins)
    objects = reg.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert len(objects) == len(INTO_AWS)
    for o in objects:
        with zipfile.ZipFile(o.inputs["source"].path) as z:
            assert sorted(z.namelist()) == sorted(f"mm2/{j.file_name}" for j in (*PLUGIN_JARS, *BUILT_JARS))
        assert {"mm2/connect-mirror-3.7.2.jar", "mm2/connect-mirror-client-3.7.2.jar"} <= set(z.namelist())
    buckets = [b for b in reg.of_type("aws:s3/bucket:Bucket") if b.name.endswith("-plugin")]
    assert len(buckets) == len(INTO_AWS)
    assert sorted(b.inputs["bucket"] for b in buckets) == sorted(
        bucket_name(b.name.removesuffix("-plugin"), ACCOUNT) for b in buckets
    )
    logs = [b for b in reg.of_type("aws:s3/bucket:Bucket") if b.name.endswith("-plugin-logs")]
    assert sorted(b.inputs["bucket"] for b in logs) == sorted(
        log_bucket_name(b.name.removesuffix("-plugin-logs"), ACCOUNT) for b in logs
    )
    buckets += logs
    assert all(b.inputs["bucket"].endswith(f"-{ACCOUNT}") and len(b.inputs["bucket"]) <= 63 for b in buckets)
    for block in reg.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        assert all(
            block.inputs[k] is True
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )


def test_workers_may_reach_only_the_source_kafka_port_the_targets_iam_listener_and_secrets_manager(reg):
    groups = [g for g in reg.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name.endswith("-workers")]
    assert len(groups) == len(INTO_AWS)
    for g in groups:
        rules = {(e["fromPort"], tuple(e["cidrBlocks"])) for e in g.inputs["egress"]}
        target_cidr = next(
            str(r.cidr) for r in PLAN.config.regions.values() if g.name.endswith(f"{r.cloud}-{r.name}-workers")
        )
        assert rules == {(9092, (str(HUB.region.cidr),)), (9098, (target_cidr,)), (443, (target_cidr,))}
        assert "ingress" not in g.inputs or g.inputs["ingress"] == []


def test_aws_spokes_resolve_the_hubs_managed_kafka_names_through_cloud_dns(reg):
    (policy,) = reg.of_type("gcp:dns/policy:Policy")
    assert policy.inputs["enableInboundForwarding"] is True
    rules = reg.of_type("aws:route53/resolverRule:ResolverRule")
    aws_spokes = [r for r in PLAN.config.regions.values() if r.cloud == "aws"]
    assert len(rules) == len(aws_spokes)
    hub_forwarders = [dns_forwarder(HUB.region.name)]
    for rule in rules:
        assert rule.inputs["domainName"] == managed_kafka_domain(PROJECT, HUB.region.name)
        assert rule.inputs["ruleType"] == "FORWARD"
        # Cloud DNS's inbound forwarders in the hub's region, read back from GCP.
        assert rule.inputs["targetIps"] == [{"ip": ip, "port": 53} for ip in hub_forwarders]
    assert {reg.provider_region(r) for r in rules} == {r.name for r in aws_spokes}
    assert len(reg.of_type("aws:route53/resolverRuleAssociation:ResolverRuleAssociation")) == len(aws_spokes)
    for endpoint in reg.of_type("aws:route53/resolverEndpoint:ResolverEndpoint"):
        assert endpoint.inputs["direction"] == "OUTBOUND" and len(endpoint.inputs["ipAddresses"]) == 2


def test_the_gcp_spoke_is_fed_from_the_hub_over_the_shared_vpc(reg):
    (flow,) = [f for f in PLAN.mirrors.values() if f.mechanism == MirrorMechanism.MM2_GCP_CONNECT]
    (connect,) = reg.of_type("gcp:managedkafka/connectCluster:ConnectCluster")
    (net,) = connect.inputs["gcpConfig"]["accessConfig"]["networkConfigs"]
    # The hub's private domain is made visible to the spoke's workers.
    assert net["dnsDomainNames"] == [f"{HUB.name}.{HUB.region.name}.managedkafka.{PROJECT}.cloud.goog"]
    for c in reg.of_type("gcp:managedkafka/connector:Connector"):
        config, _ = unsecret(c.inputs["configs"])
        assert config["source.cluster.sasl.mechanism"] == config["target.cluster.sasl.mechanism"] == "OAUTHBEARER"
        assert config["topics"] == ",".join(flow.topics)
    # No VPN between two GCP regions: one VPC.
    assert len(reg.of_type("multicloud-kafka:crosscloud:HaVpnLink")) == 2
