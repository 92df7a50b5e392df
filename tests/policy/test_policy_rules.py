"""Every policy both ways: silent on what each repo stack registers, and a useful
message on a planted violation. The rules run on the program's registrations
under mocks, with no engine."""

from __future__ import annotations

import json

import pytest

from policy import rules
from tests.policy.policy_support import STACKS, changed, of_type, replaced, resources_of, stack
from tests.support.program import run_main
from tests.support.stacks import GCP_HUB, raw_config

RESOURCE_RULES = {
    "encryption": rules.encryption,
    "public_access": rules.public_access,
    "kafka_auth": rules.kafka_auth,
    "logins_by_reference": rules.logins_by_reference,
    "topic_api": rules.topic_api,
    "zones": rules.zones,
    "key_policies": rules.key_policies,
    "log_groups": rules.log_groups,
}
STACK_RULES = {
    "buckets_blocked": rules.buckets_blocked,
    "network_ranges": rules.network_ranges,
    "replicator_prerequisites": rules.replicator_prerequisites,
    "gcp_apis": rules.gcp_apis,
    "connector_dependencies": rules.connector_dependencies,
    "flow_logs": rules.flow_logs,
    "default_security_groups": rules.default_security_groups,
    "buckets_hardened": rules.buckets_hardened,
    "security_groups_used": rules.security_groups_used,
    "api_routes_authorized": rules.api_routes_authorized,
}


def messages(rule, resources):
    return [m for r in resources for m in rule(r)]


def prod():
    return stack("prod")[1]


@pytest.mark.parametrize("name", STACKS)
@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_resource_rules_pass_on_every_repo_stack(name, rule):
    _, resources = stack(name)
    assert messages(RESOURCE_RULES[rule], resources) == []


@pytest.mark.parametrize("name, rule", [(n, r) for n in STACKS for r in STACK_RULES])
def test_stack_rules_pass_on_every_repo_stack(name, rule):
    _, resources = stack(name)
    assert STACK_RULES[rule](resources) == []


@pytest.mark.parametrize("name", STACKS)
def test_protect_passes_on_every_repo_stack_as_configured(name):
    plan, resources = stack(name)
    assert messages(lambda r: rules.protected(r, allow_unprotected=not plan.config.protect), resources) == []


def test_the_stacks_exercise_the_rules():
    """The passes above mean something: the stacks hold what the rules judge."""
    everything = {r.type for n in STACKS for r in stack(n)[1]}
    for type_ in (
        rules.MSK_CLUSTER,
        rules.MSK_TOPIC,
        rules.GK_CLUSTER,
        rules.SECURITY_GROUP,
        rules.GCP_FIREWALL,
        rules.SUBNET,
        rules.MSK_REPLICATOR,
        rules.MSK_CLUSTER_POLICY,
        rules.GK_CONNECTOR,
        rules.GCP_SERVICE,
        rules.SECRET,
        rules.KMS_KEY,
        rules.GCP_KMS_KEY,
        rules.FLOW_LOG,
        rules.DEFAULT_SECURITY_GROUP,
        rules.LOG_GROUP,
        rules.VPC,
        rules.GCP_SUBNET,
        rules.HTTP_API,
        rules.API_ROUTE,
    ):
        assert type_ in everything, type_


# -- planted violations -----------------------------------------------------


def hub_cluster():
    plan, resources = stack("prod")
    return next(r for r in of_type(resources, rules.MSK_CLUSTER) if r.props["clusterName"] == plan.hub.name)


def test_encryption_flags_a_cluster_without_a_customer_key_or_with_plaintext():
    c = hub_cluster()
    info = c.props["encryptionInfo"]
    no_key = changed(c, encryptionInfo={k: v for k, v in info.items() if k != "encryptionAtRestKmsKeyArn"})
    assert rules.encryption(no_key) == [
        f"MSK cluster {c.name}: no customer KMS key at rest (encryptionInfo.encryptionAtRestKmsKeyArn)"
    ]
    plain = changed(
        c, encryptionInfo={**info, "encryptionInTransit": {"clientBroker": "TLS_PLAINTEXT", "inCluster": True}}
    )
    assert "traffic not TLS-only (clientBroker='TLS_PLAINTEXT'" in rules.encryption(plain)[0]


def test_encryption_flags_a_managed_kafka_cluster_on_googles_key_and_a_cloud_kms_key_never_rotated():
    gk = of_type(prod(), rules.GK_CLUSTER)[0]
    config = {k: v for k, v in gk.props["gcpConfig"].items() if k != "kmsKey"}
    assert rules.encryption(changed(gk, gcpConfig=config)) == [
        f"Managed Kafka cluster {gk.name}: Google-managed key at rest; set gcpConfig.kmsKey to a Cloud KMS key"
    ]
    key = of_type(prod(), rules.GCP_KMS_KEY)[0]
    assert rules.encryption(changed(key, rotationPeriod=None)) == [
        f"Cloud KMS key {key.name}: never rotated; set rotationPeriod"
    ]


def test_encryption_flags_a_secret_on_the_aws_key_and_a_key_never_rotated():
    secret = of_type(prod(), rules.SECRET)[0]
    assert rules.encryption(changed(secret, kmsKeyId=None)) == [
        f"secret {secret.name}: encrypted with the AWS-managed key; set kmsKeyId to a customer KMS key"
    ]
    key = of_type(prod(), rules.KMS_KEY)[0]
    assert "key rotation is off" in rules.encryption(changed(key, enableKeyRotation=False))[0]


def test_encryption_and_auth_flag_a_connector_in_plaintext_without_iam():
    connector = rules.Resource(
        rules.MSK_CONNECTOR,
        {
            "kafkaClusterEncryptionInTransit": {"encryptionType": "PLAINTEXT"},
            "kafkaClusterClientAuthentication": {"authenticationType": "NONE"},
        },
        name="c",
    )
    assert rules.encryption(connector) == [
        "MSK Connect connector c: not TLS to the cluster; set kafkaClusterEncryptionInTransit TLS"
    ]
    assert rules.kafka_auth(connector) == [
        "MSK Connect connector c: does not log in with IAM; set kafkaClusterClientAuthentication IAM"
    ]


def test_public_access_flags_public_brokers_public_ips_a_gateway_and_an_open_bucket():
    c = hub_cluster()
    info = c.props["brokerNodeGroupInfo"]
    public = changed(
        c, brokerNodeGroupInfo={**info, "connectivityInfo": {"publicAccess": {"type": "SERVICE_PROVIDED_EIPS"}}}
    )
    assert rules.public_access(public) == [
        f"MSK cluster {c.name}: public access SERVICE_PROVIDED_EIPS; set connectivityInfo.publicAccess.type DISABLED"
    ]
    subnet = of_type(prod(), rules.SUBNET)[0]
    assert "gives instances public IPs" in rules.public_access(changed(subnet, mapPublicIpOnLaunch=True))[0]
    assert "no route to the internet" in rules.public_access(rules.Resource(rules.INTERNET_GATEWAY, {}, name="igw"))[0]
    block = rules.Resource(
        rules.PUBLIC_ACCESS_BLOCK,
        {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
        name="b",
    )
    assert rules.public_access(block) == ["bucket public access block b: blockPublicPolicy not true; set all four true"]


def test_buckets_without_a_public_access_block_are_flagged():
    bucket = rules.Resource(rules.S3_BUCKET, {}, name="plugin", urn="urn:bucket")
    block = rules.Resource(rules.PUBLIC_ACCESS_BLOCK, {}, name="plugin", urn="urn:block", dependencies=("urn:bucket",))
    assert rules.buckets_blocked([bucket, block]) == []
    assert rules.buckets_blocked([bucket]) == [
        (
            "urn:bucket",
            "S3 bucket plugin: no public access block; add an aws.s3.BucketPublicAccessBlock blocking all four",
        )
    ]


def test_network_ranges_flag_the_internet_and_an_unplanned_range():
    resources = prod()
    sg = next(r for r in of_type(resources, rules.SECURITY_GROUP) if r.props.get("ingress"))
    rule = {**sg.props["ingress"][0], "cidrBlocks": ["0.0.0.0/0"]}
    open_sg = changed(sg, ingress=[rule])
    (found,) = rules.network_ranges(replaced(resources, sg, open_sg))
    assert found == (
        sg.urn,
        f"security group {sg.name}: ingress port {rule['fromPort']} from 0.0.0.0/0, outside the "
        "planned ranges; admit only the stack's regions",
    )
    fw = of_type(resources, rules.GCP_FIREWALL)[0]
    wide = changed(fw, sourceRanges=[*fw.props["sourceRanges"], "203.0.113.0/24"])
    assert rules.network_ranges(replaced(resources, fw, wide)) == [
        (
            fw.urn,
            f"firewall {fw.name}: admits 203.0.113.0/24, outside the planned ranges; admit only the stack's regions",
        )
    ]


def test_kafka_auth_flags_anonymous_clients_and_no_sasl():
    c = hub_cluster()
    anonymous = changed(c, clientAuthentication={"unauthenticated": True, "sasl": {"iam": False, "scram": False}})
    assert rules.kafka_auth(anonymous) == [
        f"MSK cluster {c.name}: admits unauthenticated clients; set clientAuthentication.unauthenticated false",
        f"MSK cluster {c.name}: neither IAM nor SASL/SCRAM is on; turn on clientAuthentication.sasl.iam",
    ]


def test_protect_flags_an_unprotected_topic_unless_the_stack_opts_out():
    import dataclasses

    topic = of_type(prod(), rules.MSK_TOPIC)[0]
    bare = dataclasses.replace(topic, protect=False)
    (message,) = rules.protected(bare)
    assert message.startswith(f"aws:msk/topic:Topic {topic.name}: holds data but is not protected")
    assert rules.protected(bare, allow_unprotected=True) == []
    _, dev = stack("dev")
    assert messages(rules.protected, dev), "dev is unprotected: the default refuses it"


def test_topic_api_flags_serverless_and_old_kafka():
    assert (
        "not available on serverless clusters" in rules.topic_api(rules.Resource(rules.MSK_SERVERLESS, {}, name="s"))[0]
    )
    c = hub_cluster()
    assert rules.topic_api(changed(c, kafkaVersion="3.5.1")) == [
        f"MSK cluster {c.name}: Kafka 3.5.1 has no topic API (3.6.0 or later)"
    ]


def test_zones_flag_use1_az3_zone_names_and_a_third_subnet_in_us_west_1():
    subnet = next(r for r in of_type(prod(), rules.SUBNET) if r.region == "us-east-1")
    assert rules.zones(changed(subnet, availabilityZoneId="use1-az3")) == [
        f"subnet {subnet.name}: zone use1-az3 is refused by MSK for broker subnets; pick another zone ID"
    ]
    by_name = changed(subnet, availabilityZoneId=None, availabilityZone="us-east-1a")
    assert "placed by zone name us-east-1a" in rules.zones(by_name)[0]
    import dataclasses

    west = dataclasses.replace(hub_cluster(), region="us-west-1")
    assert rules.zones(west) == [f"MSK cluster {west.name}: 3 client subnets; MSK in us-west-1 takes 2, one per AZ"]


def _replicator_case():
    """prod's replicator from the hub to us-west-2's local cluster (the one to the standby reads the hub too)."""
    resources = prod()
    (rep,) = [r for r in of_type(resources, rules.MSK_REPLICATOR) if r.name.endswith("-to-aws-us-west-2")]
    return resources, rep, hub_cluster()


def _of(rep, violations):
    return [v for v in violations if v[0] == rep.urn]


def test_replicator_flags_a_source_without_multi_vpc_or_policy():
    resources, rep, hub = _replicator_case()
    info = hub.props["brokerNodeGroupInfo"]
    closed = changed(hub, brokerNodeGroupInfo={**info, "connectivityInfo": {"publicAccess": {"type": "DISABLED"}}})
    assert _of(rep, rules.replicator_prerequisites(replaced(resources, hub, closed))) == [
        (
            rep.urn,
            f"replicator {rep.name}: source {hub.name} in us-east-1 lacks multi-VPC private connectivity for "
            "IAM (connectivityInfo.vpcConnectivity...sasl.iam)",
        )
    ]
    without_policy = [r for r in resources if r.type != rules.MSK_CLUSTER_POLICY]
    (found,) = _of(rep, rules.replicator_prerequisites(without_policy))
    assert "has no cluster policy letting kafka.amazonaws.com kafka:CreateVpcConnection" in found[1]


def test_replicator_flags_not_waiting_for_the_policy_t3_small_and_a_narrow_role():
    import dataclasses

    resources, rep, hub = _replicator_case()
    (policy,) = [p for p in of_type(resources, rules.MSK_CLUSTER_POLICY) if p.urn in rep.dependencies]
    impatient = dataclasses.replace(rep, dependencies=tuple(d for d in rep.dependencies if d != policy.urn))
    assert rules.replicator_prerequisites(replaced(resources, rep, impatient)) == [
        (rep.urn, f"replicator {rep.name}: does not wait for the cluster policy of {hub.name}; add it to depends_on")
    ]
    small = changed(hub, brokerNodeGroupInfo={**hub.props["brokerNodeGroupInfo"], "instanceType": "kafka.t3.small"})
    assert (
        "runs kafka.t3.small, which MSK Replicator does not support"
        in _of(rep, rules.replicator_prerequisites(replaced(resources, hub, small)))[0][1]
    )
    role = next(r for r in of_type(resources, rules.ROLE_POLICY) if r.urn in rep.dependencies)
    narrow = changed(role, policy=role.props["policy"].replace("mskr-offset-syncs.*", "__*"))
    assert _of(rep, rules.replicator_prerequisites(replaced(resources, role, narrow))) == [
        (
            rep.urn,
            f"replicator {rep.name}: its role may not use the internal topics mskr-offset-syncs.* on both "
            "clusters (MSK Replicator topic replication permissions)",
        )
    ]


def test_connector_dependencies_flag_a_cross_cloud_connector_not_waiting_for_the_vpn():
    cluster = rules.Resource(rules.MSK_CLUSTER, {}, urn="urn:msk")
    tunnel = rules.Resource(rules.GCP_TUNNEL, {}, urn="urn:tunnel")
    waiting = rules.Resource(rules.GK_CONNECTOR, {}, name="src", urn="urn:c1", dependencies=("urn:msk", "urn:tunnel"))
    blind = rules.Resource(rules.GK_CONNECTOR, {}, name="src", urn="urn:c2", dependencies=("urn:msk",))
    assert rules.connector_dependencies([cluster, tunnel, waiting]) == []
    assert rules.connector_dependencies([cluster, tunnel, blind]) == [
        (
            "urn:c2",
            "connector src: reads a cluster in the other cloud but does not wait for the HA VPN tunnels it "
            "reads over; make it depend on them",
        )
    ]


def test_gcp_apis_flag_a_provider_that_does_not_wait_for_them():
    import dataclasses

    resources = prod()
    gk = of_type(resources, rules.GK_CLUSTER)[0]
    provider = next(r for r in resources if r.urn == gk.provider_urn)
    hasty = dataclasses.replace(provider, dependencies=())
    found = rules.gcp_apis(replaced(resources, provider, hasty))
    assert (
        gk.urn,
        f"{rules.GK_CLUSTER} {gk.name}: its provider does not wait for the Google APIs "
        "(gcp.projects.Service); on a fresh project its first call would fail",
    ) in found


def test_unknown_values_of_a_preview_are_not_judged():
    """A preview of a first deployment does not know outputs yet: the rules judge only what is known."""
    rep = rules.Resource(
        rules.MSK_REPLICATOR, {"serviceExecutionRoleArn": None}, name="r", urn="urn:r", dependencies=("urn:p",)
    )
    role = rules.Resource(rules.ROLE_POLICY, {"policy": None}, urn="urn:p")
    assert rules.replicator_prerequisites([rep, role]) == []
    assert rules.zones(rules.Resource(rules.SUBNET, {"availabilityZoneId": None}, region="us-east-1")) == []


def test_policy_documents_of_the_source_cluster_are_read_as_json():
    doc = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["kafka.amazonaws.com"]},
                "Action": sorted(rules.REPLICATOR_SOURCE_ACTIONS),
            }
        ]
    }
    assert rules._policy_grants(json.dumps(doc)) == set(rules.REPLICATOR_SOURCE_ACTIONS)
    assert rules._policy_grants("not json") == set()


# -- secure defaults: flow logs, default security groups, key policies, logs --


def test_flow_logs_flag_a_vpc_without_one_and_a_gcp_subnet_without_log_config():
    resources = prod()
    vpc = of_type(resources, rules.VPC)[0]
    flow = next(f for f in of_type(resources, rules.FLOW_LOG) if vpc.urn in f.dependencies)
    without = [r for r in resources if r is not flow]
    assert rules.flow_logs(without) == [
        (vpc.urn, f"VPC {vpc.name}: no flow log; add an aws.ec2.FlowLog of its traffic")
    ]
    rejected_only = replaced(resources, flow, changed(flow, trafficType="REJECT"))
    assert rules.flow_logs(rejected_only) == [
        (vpc.urn, f"VPC {vpc.name}: its flow logs miss some traffic; set trafficType ALL")
    ]
    subnet = next(s for s in of_type(resources, rules.GCP_SUBNET) if not s.props.get("purpose"))
    unlogged = replaced(resources, subnet, changed(subnet, logConfig=None))
    assert rules.flow_logs(unlogged) == [
        (
            subnet.urn,
            f"subnetwork {subnet.name}: no VPC flow logs; set logConfig "
            "(flowSampling 1.0, aggregationInterval INTERVAL_5_SEC)",
        )
    ]


def test_flow_logs_exempt_proxy_only_subnets_which_gcp_refuses_them():
    proxy = rules.Resource(
        rules.GCP_SUBNET,
        {"purpose": "REGIONAL_MANAGED_PROXY", "ipCidrRange": "10.99.0.0/23"},
        name="proxy",
        urn="urn:proxy",
    )
    assert rules.flow_logs([proxy]) == []
    assert rules.flow_logs([changed(proxy, purpose="PRIVATE")]) != []


def test_default_security_groups_flag_an_unmanaged_one_and_one_with_rules():
    resources = prod()
    vpc = of_type(resources, rules.VPC)[0]
    default = next(d for d in of_type(resources, rules.DEFAULT_SECURITY_GROUP) if vpc.urn in d.dependencies)
    assert rules.default_security_groups([r for r in resources if r is not default]) == [
        (
            vpc.urn,
            f"VPC {vpc.name}: its default security group is not managed; add an "
            "aws.ec2.DefaultSecurityGroup with no ingress and no egress",
        )
    ]
    open_ = changed(default, ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}])
    assert rules.default_security_groups(replaced(resources, default, open_)) == [
        (
            default.urn,
            f"default security group {default.name}: has ingress rules; remove them "
            "so nothing placed in it by accident can talk",
        )
    ]


def test_key_policies_flag_a_key_without_one_and_one_anybody_in_the_account_may_use():
    key = of_type(prod(), rules.KMS_KEY)[0]
    assert "no key policy" in rules.key_policies(changed(key, policy=None))[0]
    default = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    assert rules.key_policies(changed(key, policy=default)) == [
        f"KMS key {key.name}: statement 'Enable IAM User Permissions' lets "
        '{"AWS": "arn:aws:iam::123456789012:root"} use the key directly; '
        "name the services that use it (service principal or kms:ViaService)"
    ]
    anyone = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"}]})
    assert rules.key_policies(changed(key, policy=anyone)) == [
        f"KMS key {key.name}: statement '' lets anyone use the key"
    ]
    admin_only = json.loads(key.props["policy"])
    admin_only["Statement"] = admin_only["Statement"][:1]
    assert rules.key_policies(changed(key, policy=json.dumps(admin_only))) == [
        f"KMS key {key.name}: its policy names no service that uses the key"
    ]


def test_every_aws_key_of_prod_names_the_services_that_use_it():
    for key in of_type(prod(), rules.KMS_KEY):
        users = [s for s in json.loads(key.props["policy"])["Statement"] if s["Sid"] != "AccountAdministers"]
        named = json.dumps(users)
        assert any(service in named for service in ("logs.", "kafka.", "secretsmanager.")), key.name


def test_log_groups_flag_cloudwatchs_own_key_and_a_period_cloudwatch_refuses():
    group = of_type(prod(), rules.LOG_GROUP)[0]
    assert rules.log_groups(changed(group, kmsKeyId=None)) == [
        f"log group {group.name}: encrypted with CloudWatch's own key; set kmsKeyId to a customer KMS key"
    ]
    assert rules.log_groups(changed(group, retentionInDays=45)) == [
        f"log group {group.name}: retentionInDays 45 is not a period CloudWatch accepts; "
        "set multicloud-kafka:logRetentionDays"
    ]


def plugin_bucket(resources):
    logged = {r.props["bucket"] for r in of_type(resources, rules.BUCKET_LOGGING)}
    return next(b for b in of_type(resources, rules.S3_BUCKET) if b.props["bucket"] in logged)


def test_buckets_hardened_flag_a_plugin_bucket_unversioned_on_s3s_key_and_unlogged():
    # No repo stack runs MSK Connect: a GCP hub with AWS spokes does.
    registrations, _, _ = run_main(raw_config("regional-clusters", GCP_HUB, hub="gcp/europe-west1"))
    resources = resources_of(registrations)
    assert rules.buckets_hardened(resources) == []
    bucket = plugin_bucket(resources)
    name = bucket.props["bucket"]
    settings = (rules.BUCKET_VERSIONING, rules.BUCKET_ENCRYPTION, rules.BUCKET_LOGGING)
    bare = [r for r in resources if not (r.type in settings and r.props.get("bucket") == name)]
    assert [m for urn, m in rules.buckets_hardened(bare) if urn == bucket.urn] == [
        f"S3 bucket {bucket.name}: not versioned; add an aws.s3.BucketVersioning with status Enabled",
        f"S3 bucket {bucket.name}: not encrypted with a customer key; add an "
        "aws.s3.BucketServerSideEncryptionConfiguration with aws:kms and kmsMasterKeyId",
        f"S3 bucket {bucket.name}: access not logged; add an aws.s3.BucketLogging to a log bucket",
    ]
    sse = next(r for r in of_type(resources, rules.BUCKET_ENCRYPTION) if r.props["bucket"] == name)
    s3_key = changed(sse, rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}])
    assert len(rules.buckets_hardened(replaced(resources, sse, s3_key))) == 1


def test_security_groups_used_flags_a_group_nothing_depends_on():
    resources = prod()
    group = of_type(resources, rules.SECURITY_GROUP)[0]
    users = [r for r in resources if group.urn in r.dependencies]
    assert users
    alone = [r for r in resources if r not in users]
    assert rules.security_groups_used(alone) == [
        (group.urn, f"security group {group.name}: no resource uses it; do not create it")
    ]


def test_logins_by_reference_flags_a_password_in_an_msk_connect_connector_in_clear():
    # No repo stack runs MSK Connect: a GCP hub with AWS spokes does.
    registrations, _, _ = run_main(raw_config("regional-clusters", GCP_HUB, hub="gcp/europe-west1"))
    connectors = of_type(resources_of(registrations), rules.MSK_CONNECTOR)
    assert connectors and messages(rules.logins_by_reference, connectors) == []
    c = connectors[0]
    config = dict(c.props["connectorConfiguration"])
    jaas = config["source.cluster.sasl.jaas.config"]
    config["source.cluster.sasl.jaas.config"] = rules.JAAS_PASSWORD.sub('password="the-key-itself"', jaas)
    assert rules.logins_by_reference(changed(c, connectorConfiguration=config)) == [
        f"MSK Connect connector {c.name}: source.cluster.sasl.jaas.config holds a password in clear; keep the "
        "login in Secrets Manager and name it ${secretsmanager:<secret>:password} (infra/secretrefs.py)"
    ]
