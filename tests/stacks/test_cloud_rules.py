"""The clouds' documented rules that mocks cannot enforce (issue 12), one test each.

Each docstring names the document the rule comes from; docs/cloud-rules.md
lists them with what was found in the provider's source.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path
from typing import ClassVar

import pytest

from infra import aws_rules, plugin_jars, stackfile
from infra.components.aws import msk_connect, replicator
from infra.components.aws.msk import (
    REPLICATOR_SOURCE_ACTIONS,
    problems,
    replicator_sources,
)
from infra.components.base import RealizationError
from infra.components.gcp import provider as gcp_provider
from infra.config import validate
from infra.validation import ConfigError
from tests.support import mocks
from tests.support.outputs import ACCOUNT
from tests.support.program import of_type, plan_of, run_main
from tests.support.stacks import raw_config as aws_stack
from tests.support.stacks import stack_file_config

CLUSTER = "aws:msk/cluster:Cluster"


@pytest.fixture(scope="module")
def prod():
    config = stack_file_config("prod")
    regs, _, refused = run_main(config, "prod")
    assert refused is None
    return plan_of(config, "prod"), regs


def by_urn(regs):
    return {r.urn: r for r in regs}


def cluster_named(regs, name):
    return next(r for r in of_type(regs, CLUSTER) if r.inputs["clusterName"] == name)


# -- 1. cross-region MSK Replicator ----------------------------------------


def test_a_cross_region_replicator_source_has_multi_vpc_iam_connectivity(prod):
    """ "Prepare the Amazon MSK source cluster" (MSK Replicator) and "Supported cluster types and
    versions for MSK Replicator": for a cross-region replicator, a provisioned source needs multi-VPC
    private connectivity turned on for IAM access control. The AWS provider's resourceClusterCreate
    (terraform-provider-aws internal/service/kafka/cluster.go) strips vpc_connectivity from
    CreateCluster, waits for ACTIVE and applies it with UpdateConnectivity, so setting it on the
    cluster is one `pulumi up`."""
    plan, regs = prod
    sources = replicator_sources(plan)
    # The hub feeds us-west-2 and the standby; the standby is prepared too, since a flip makes it the source.
    assert plan.standby is not None and sources == {plan.hub.key, plan.standby.key}
    names = {plan.clusters[key].name for key in sources}
    for c in of_type(regs, CLUSTER):
        vpc = c.inputs["brokerNodeGroupInfo"]["connectivityInfo"].get("vpcConnectivity")
        if c.inputs["clusterName"] in names:
            assert vpc == {"clientAuthentication": {"sasl": {"iam": True, "scram": False}, "tls": False}}
        else:
            assert vpc is None, "only replicator sources open multi-VPC connectivity"


def test_the_source_cluster_policy_lets_msk_replicator_in_and_the_replicator_waits_for_it(prod):
    """ "Prepare the Amazon MSK source cluster": attach to the source a resource-based policy letting
    the kafka.amazonaws.com service principal kafka:CreateVpcConnection, kafka:GetBootstrapBrokers
    and kafka:DescribeClusterV2 on the source cluster's ARN."""
    plan, regs = prod
    urns = by_urn(regs)
    hub = cluster_named(regs, plan.hub.name)
    policies = {p.inputs["clusterArn"].split("/")[1]: p for p in of_type(regs, "aws:msk/clusterPolicy:ClusterPolicy")}
    # The hub's, which every replicator reads now, and the standby's, for when a flip makes it the source.
    assert plan.standby is not None and set(policies) == {plan.hub.name, plan.standby.name}
    policy = policies[plan.hub.name]
    assert policy.inputs["clusterArn"].endswith(f":cluster/{plan.hub.name}/uuid-{plan.hub.name}")
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"Service": ["kafka.amazonaws.com"]}
    assert sorted(statement["Action"]) == sorted(REPLICATOR_SOURCE_ACTIONS)
    assert statement["Resource"] == policy.inputs["clusterArn"]
    for rep in of_type(regs, "aws:msk/replicator:Replicator"):
        assert policy.urn in rep.dependencies
    assert urns[policy.urn].provider == hub.provider


def test_replicator_security_groups_keep_only_the_kafka_ports():
    """ "Network requirements" (MSK Replicator): cross-region, no security group is needed for the
    source (the replicator reaches it through MSK's own multi-VPC connection); the target's groups
    must allow 9098 in and out. The brokers' group already admits 9098 from every planned range,
    so no multi-VPC port range (14001-14100, the client-side endpoint's) is opened on our groups."""
    regs, _, _ = run_main(aws_stack("regional-clusters"))
    for sg in of_type(regs, "aws:ec2/securityGroup:SecurityGroup"):
        for direction in ("ingress", "egress"):
            ports = {(r["fromPort"], r["toPort"]) for r in sg.inputs.get(direction, [])}
            assert (9098, 9098) in ports
            assert all(lo == hi and lo in (9094, 9096, 9098) for lo, hi in ports)


# -- 2. replicator permissions on its internal topics ----------------------


def test_the_replicator_role_may_use_its_internal_topics_on_both_clusters():
    """ "Topic replication permissions" (MSK Replicator service execution role): the replicator
    manages its internal topics `*__amazon_msk_replicator_*`, `mskr-offset-syncs.*` and
    `*.checkpoints.internal` on both the source and the target cluster."""
    src = "arn:aws:kafka:us-east-1:1:cluster/hub/u1"
    dst = "arn:aws:kafka:us-west-2:1:cluster/west/u2"
    policy = replicator.execution_policy(src, dst, ["T"])
    (internal,) = [s for s in policy["Statement"] if s["Sid"] == "InternalTopics"]
    expected = [
        f"arn:aws:kafka:{region}:1:topic/{name}/{uuid}/{pattern}"
        for region, name, uuid in (("us-east-1", "hub", "u1"), ("us-west-2", "west", "u2"))
        for pattern in ("*__amazon_msk_replicator_*", "mskr-offset-syncs.*", "*.checkpoints.internal")
    ]
    assert internal["Resource"] == expected
    assert {"kafka-cluster:CreateTopic", "kafka-cluster:ReadData", "kafka-cluster:WriteData"} <= set(internal["Action"])


# -- 3. aws.msk.Topic only on provisioned clusters from Kafka 3.6.0 --------


def test_serverless_msk_is_refused_naming_key_value_and_fix():
    """ "Topic Operations" (Amazon MSK Developer Guide): the topic APIs are not available for MSK
    Serverless clusters; every topic here is an aws.msk.Topic."""
    with pytest.raises(ConfigError) as e:
        plan_of(aws_stack("header-routing", msk=json.dumps({"serverless": True})))
    (problem,) = e.value.problems
    assert (problem.key, problem.value) == ("multicloud-kafka:msk.serverless", True)
    assert "set it to false" in problem.fix


@pytest.mark.parametrize(
    "version, ok", [("3.5.1", False), ("2.8.1", False), ("3.6.0", True), ("3.9.x", True), ("3.8.x.kraft", True)]
)
def test_kafka_below_3_6_0_is_refused(version, ok):
    """ "Topic Operations" (Amazon MSK Developer Guide): "Your cluster must be running Apache Kafka
    version 3.6.0 or later" to use the topic APIs."""
    config = aws_stack("header-routing", msk=json.dumps({"kafkaVersion": version}))
    if ok:
        assert plan_of(config).config.msk.kafka_version == version
        return
    with pytest.raises(ConfigError) as e:
        plan_of(config)
    (problem,) = e.value.problems
    assert (problem.key, problem.value) == ("multicloud-kafka:msk.kafkaVersion", version)
    assert "3.6.0 or later" in problem.fix


# -- 4. availability zones --------------------------------------------------


def test_zones_are_chosen_by_id_skipping_use1_az3_and_local_zones():
    """AWS CloudFormation AWS::MSK::Cluster BrokerNodeGroupInfo: "Client subnets can't occupy the
    Availability Zone with ID use1-az3". Zone names map to different zones per account, so subnets
    are placed by zone ID; DescribeAvailabilityZones is filtered to zone-type availability-zone (no
    Local or Wavelength Zones). The mocks' us-east-1 lists use1-az3 and a Local Zone."""
    regs, _, _ = run_main(aws_stack("header-routing"))
    urns = by_urn(regs)
    east = [s for s in of_type(regs, "aws:ec2/subnet:Subnet") if urns[s.provider].inputs["region"] == "us-east-1"]
    assert [s.inputs["availabilityZoneId"] for s in sorted(east, key=lambda s: s.name)] == [
        "use1-az1",
        "use1-az2",
        "use1-az4",
    ]
    assert all("availabilityZone" not in s.inputs for s in east)


def test_http_api_vpc_links_zones_in_us_east_1():
    """ "Set up VPC links for HTTP APIs in API Gateway", Availability by Region: in us-east-1 VPC links
    support use1-az1, use1-az2, use1-az4, use1-az5 and use1-az6 only; the API's VPC link uses the
    brokers' subnets, so zones are chosen to suit both."""
    assert aws_rules.usable_zone_ids("us-east-1", [f"use1-az{i}" for i in range(1, 7)]) == [
        "use1-az1",
        "use1-az2",
        "use1-az4",
        "use1-az5",
        "use1-az6",
    ]
    assert aws_rules.choose_zones("us-east-1", ["use1-az6", "use1-az3", "use1-az5", "use1-az4"]) == [
        "use1-az4",
        "use1-az5",
        "use1-az6",
    ]


def test_where_vpc_links_accept_too_few_zones_the_brokers_keep_three_and_the_link_takes_its_own():
    """Same document: in ap-east-1 VPC links support ape1-az2 and ape1-az3 only. The brokers still get
    three AZs (the link's zones first); the regional API's VPC link is given only its two."""
    assert aws_rules.choose_zones("ap-east-1", ["ape1-az1", "ape1-az2", "ape1-az3"]) == [
        "ape1-az2",
        "ape1-az3",
        "ape1-az1",
    ]
    regions = {"aws/ap-east-1": {"cidr": "10.10.0.0/16"}}
    config = aws_stack("header-routing") | {
        "multicloud-kafka:regions": json.dumps(regions),
        "multicloud-kafka:hub": "aws/ap-east-1",
    }

    def program():
        from infra.architectures import build_plan
        from infra.components.aws.network import realize_networks
        from infra.components.base import Context
        from infra.components.registry import REALIZERS

        plan = build_plan(validate(stackfile.decode(config), "test"))
        ctx = Context(plan, None, lambda c, region: REALIZERS.providers[region.cloud](c, region))
        (net,) = realize_networks(ctx, list(plan.config.regions.values())).values()
        return {"all": net.subnet_ids, "link": net.vpc_link_subnet_ids}

    _, _, value = mocks.run(program, config)
    assert value["all"] == [f"mck-test-aws-ap-east-1-az{i}-id" for i in (1, 2, 3)]
    assert value["link"] == ["mck-test-aws-ap-east-1-az1-id", "mck-test-aws-ap-east-1-az2-id"]


def test_us_west_1_gets_two_subnets_and_msk_two_azs():
    """AWS CloudFormation AWS::MSK::Cluster BrokerNodeGroupInfo: "If you use the US West (N.
    California) Region, specify exactly two subnets"; brokers are a multiple of the AZ count."""
    regions = {"aws/us-west-1": {"cidr": "10.10.0.0/16"}}
    config = aws_stack("header-routing", msk=json.dumps({"brokersPerAz": 2})) | {
        "multicloud-kafka:regions": json.dumps(regions),
        "multicloud-kafka:hub": "aws/us-west-1",
    }
    regs, _, refused = run_main(config)
    assert refused is None
    subnets = of_type(regs, "aws:ec2/subnet:Subnet")
    assert sorted(s.inputs["availabilityZoneId"] for s in subnets) == ["usw1-az1", "usw1-az3"]
    (cluster,) = of_type(regs, CLUSTER)
    assert len(cluster.inputs["brokerNodeGroupInfo"]["clientSubnets"]) == 2
    assert cluster.inputs["numberOfBrokerNodes"] == 4


def test_a_two_az_region_refuses_three_replicas_on_two_brokers_clearly():
    """Same document: two AZs in us-west-1. With one broker per AZ a cluster there has two brokers,
    too few for the default three replicas: refused before anything is registered, naming the fix."""
    regions = {"aws/us-west-1": {"cidr": "10.10.0.0/16"}}
    config = aws_stack("header-routing") | {
        "multicloud-kafka:regions": json.dumps(regions),
        "multicloud-kafka:hub": "aws/us-west-1",
    }
    regs, _, refused = run_main(config)
    assert isinstance(refused, RealizationError) and not [r for r in regs if r.custom]
    assert "exceeds the cluster's 2 brokers: raise multicloud-kafka:msk.brokersPerAz" in str(refused)


def test_a_region_with_too_few_usable_zones_fails_naming_them():
    """No IndexError: a region offering fewer accepted zones than the brokers need is named with the
    zones found (CloudFormation AWS::MSK::Cluster, ClientSubnets)."""
    with pytest.raises(aws_rules.ZoneError, match=r"us-east-1 offers this account 2 .*use1-az1, use1-az2.*need 3"):
        aws_rules.choose_zones("us-east-1", ["use1-az1", "use1-az2", "use1-az3"])


# -- 5. GCP APIs ------------------------------------------------------------


def test_every_gcp_resource_waits_for_the_google_apis_it_calls(prod):
    """Service Usage, "Enabled services": "To use most Google Cloud APIs and services, you must first
    enable them in a Google Cloud project." Every GCP resource is made with a provider that depends
    on the gcp.projects.Service of each API the stack calls."""
    plan, regs = prod
    urns = by_urn(regs)
    services = {r.inputs["service"]: r.urn for r in of_type(regs, "gcp:projects/service:Service")}
    assert set(services) == set(gcp_provider.apis(plan.config))
    assert "certificatemanager.googleapis.com" in services  # prod runs the regional API
    assert all(s.inputs["disableOnDestroy"] is False for s in of_type(regs, "gcp:projects/service:Service"))
    gcp = [r for r in regs if r.custom and r.type.startswith("gcp:") and r.type != "gcp:projects/service:Service"]
    assert gcp
    for r in gcp:
        provider = urns[r.provider]
        assert set(services.values()) <= set(provider.dependencies), f"{r.type} {r.name}"


# -- 9. kafka.t3.small where MSK Replicator or multi-VPC is needed ---------


def test_t3_small_is_refused_where_the_plan_runs_msk_replicator():
    """ "Supported cluster types and versions for MSK Replicator": t3.small clusters aren't supported;
    "Amazon MSK multi-VPC private connectivity in a single Region": multi-VPC private connectivity
    does not support the t3.small instance type."""
    plan = plan_of(aws_stack("regional-clusters", msk=json.dumps({"instanceType": "kafka.t3.small"})))
    found = problems(plan)
    assert any(
        p.startswith(
            f"cluster {plan.hub.key}: multicloud-kafka:msk.instanceType = 'kafka.t3.small': "
            "MSK Replicator and multi-VPC private connectivity do not support t3.small"
        )
        for p in found
    )
    assert all("use kafka.m7g.large or larger" in p for p in found if "t3.small" in p)
    assert len([p for p in found if "t3.small" in p]) == len(plan.clusters)


def test_t3_small_stays_allowed_where_nothing_needs_the_replicator():
    """Same documents: the limit is the replicator's and multi-VPC's, not MSK's (the dev stack)."""
    assert problems(plan_of(aws_stack("topic-per-region", msk=json.dumps({"instanceType": "kafka.t3.small"})))) == []


def test_a_replicator_in_a_two_az_region_needs_four_brokers():
    """ "Supported cluster types and versions for MSK Replicator": at least three brokers on source
    and target; clusters in two Availability Zones need at least four."""
    regions = {"aws/us-east-1": {"cidr": "10.10.0.0/16"}, "aws/us-west-1": {"cidr": "10.20.0.0/16"}}
    config = aws_stack("regional-clusters", topicDefaults=json.dumps({"replicationFactor": 2, "minInsyncReplicas": 1}))
    config["multicloud-kafka:regions"] = json.dumps(regions)
    found = problems(plan_of(config))
    assert found == [
        "cluster aws/us-west-1: multicloud-kafka:msk.brokersPerAz = 1 gives 2 brokers over 2 AZs; MSK Replicator "
        "needs at least 4 on each cluster it reads or writes: raise brokersPerAz to 2"
    ]


# -- 10. the MSK Connect plugin: bucket name, pinned jars, one fetch -------


def test_the_plugin_bucket_name_holds_the_account_id():
    """S3 "Bucket naming rules": names are unique across all AWS accounts in a partition and at most
    63 characters; the account ID makes another account's stack unable to take ours."""
    long = "mck-a-very-long-prefix-gcp-europe-west1-to-aws-ap-southeast-1"
    for name in ("mck-prod-gcp-europe-west1-to-aws-us-east-1", long):
        bucket = msk_connect.bucket_name(name, ACCOUNT)
        assert bucket.endswith(f"-{ACCOUNT}") and len(bucket) <= 63
        assert bucket == msk_connect.bucket_name(name, ACCOUNT)
    assert msk_connect.bucket_name(long, ACCOUNT) != msk_connect.bucket_name(long, "210987654321")


class _Jars(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def jar_server():
    """A loopback HTTP server standing in for Maven Central."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Jars)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Jars.files, _Jars.hits = {}, []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _fetch_from(base: str):
    def fetch(url: str) -> bytes:
        return plugin_jars._download(url.replace(plugin_jars.MAVEN_CENTRAL, base))

    return fetch


def test_plugin_jars_are_verified_and_fetched_once(tmp_path: Path, jar_server: str):
    """The plugin is fetched once into the cache and checked against pinned SHA-256s; later runs
    (every preview) read the cache only, and the zip is the same bytes each time."""
    content = b"PK fake jar bytes"
    jar = plugin_jars.Jar("org.example", "mirror", "1.0", hashlib.sha256(content).hexdigest())
    _Jars.files = {f"/{jar.repo_path}": content}
    fetch = _fetch_from(jar_server)
    first = plugin_jars.plugin_zip([jar], tmp_path / "cache", tmp_path / "m2", fetch, built=())
    data = first.read_bytes()
    first.unlink()
    again = plugin_jars.plugin_zip([jar], tmp_path / "cache", tmp_path / "m2", fetch, built=())
    assert _Jars.hits == [f"/{jar.repo_path}"]
    assert again.read_bytes() == data
    with zipfile.ZipFile(again) as z:
        assert z.namelist() == ["mm2/mirror-1.0.jar"] and z.read("mm2/mirror-1.0.jar") == content


def test_a_jar_with_another_checksum_is_refused(tmp_path: Path, jar_server: str):
    """A jar whose SHA-256 is not the pinned one is never used, wherever it came from."""
    jar = plugin_jars.Jar("org.example", "mirror", "1.0", "0" * 64)
    _Jars.files = {f"/{jar.repo_path}": b"tampered"}
    with pytest.raises(plugin_jars.PluginError, match="not the pinned 0000"):
        plugin_jars.plugin_zip([jar], tmp_path / "cache", tmp_path / "m2", _fetch_from(jar_server), built=())
    assert not list((tmp_path / "cache").glob("*.jar"))


def test_the_pinned_jars_are_maven_centrals_mirrormaker_and_msk_iam_auth():
    """The plugin runs the Kafka release MSK Connect runs (3.7.x) and MSK's IAM login module."""
    names = {j.file_name for j in plugin_jars.MM2_JARS}
    assert names == {"connect-mirror-3.7.2.jar", "connect-mirror-client-3.7.2.jar", "aws-msk-iam-auth-2.2.0-all.jar"}
    assert all(
        j.url.startswith("https://repo1.maven.org/maven2/") and len(j.sha256) == 64 for j in plugin_jars.MM2_JARS
    )
