"""One MSK cluster with its configuration, encryption key, logs and auth."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra import aws_rules, geo, kafka_acls, kafka_admin, key_policies
from infra.components.aws.network import AwsNetwork, log_group
from infra.components.base import Context, Network, expect
from infra.components.kafka import provider as kafka_provider
from infra.components.kafka.acls import KafkaAcls, KafkaAclsArgs
from infra.config import MskSettings
from infra.kafka_acls import Acl
from infra.kafka_admin import KafkaAdmin
from infra.kinds import ClusterRole, MirrorMechanism
from infra.plan import Cluster, Plan
from infra.validation import k

# One replica per AZ (three AZs, or a fourth broker in a two-AZ region); a
# write needs all but one, so a broker or an AZ can be down. These are the
# broker defaults for topics nobody declared (internal ones); planned topics
# carry their own settings.
DEFAULT_REPLICATION_FACTOR = 3
ENHANCED_MONITORING = "PER_TOPIC_PER_BROKER"
# "Prepare the Amazon MSK source cluster" (MSK Replicator): the resource
# policy a cross-region replicator's source cluster carries.
REPLICATOR_SOURCE_ACTIONS = ["kafka:CreateVpcConnection", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"]


def server_properties(brokers: int) -> dict[str, str]:
    """Broker defaults for a cluster of `brokers` brokers."""
    replicas = min(DEFAULT_REPLICATION_FACTOR, brokers)
    return {
        "auto.create.topics.enable": "false",
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(max(1, replicas - 1)),
        "unclean.leader.election.enable": "false",
        # SCRAM logins may do only what their Kafka ACLs allow. MSK's default is
        # true ("Apache Kafka ACLs"); IAM clients are unaffected ("IAM access
        # control": the setting has no effect on them) and brokers are super users.
        "allow.everyone.if.no.acl.found": "false",
    }


def replicator_source_policy(cluster_arn: str) -> dict[str, Any]:
    """Lets MSK Replicator (the kafka.amazonaws.com service) reach this cluster from another region."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "MskReplicatorReadsCrossRegion",
                "Effect": "Allow",
                "Principal": {"Service": ["kafka.amazonaws.com"]},
                "Action": REPLICATOR_SOURCE_ACTIONS,
                "Resource": cluster_arn,
            }
        ],
    }


@dataclass(frozen=True)
class MskClusterArgs:
    # The AWS region, named in the keys' policies.
    region: str
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    # The region's log key (AwsNetwork.log_key): the broker logs are encrypted with it.
    log_key_arn: pulumi.Input[str]
    settings: MskSettings = field(default_factory=MskSettings)
    # SCRAM users, one per other-cloud region that connects. Empty (default):
    # IAM auth only, no secrets. Provisioned clusters only.
    scram_users: Sequence[str] = ()
    # Pulumi `protect` on the cluster and the resources its data depends on.
    protect: bool = True
    # The source of an MSK Replicator in another region: multi-VPC private
    # connectivity for IAM, and a cluster policy letting the replicator in.
    # Default: neither.
    replicator_source: bool = False
    log_retention_days: int = aws_rules.DEFAULT_LOG_RETENTION_DAYS
    # The generation of the SCRAM passwords (`multicloud-kafka:scramRotation`):
    # a new one replaces every password. 0, the first, keeps none, so that
    # passwords made before rotation existed are not replaced.
    scram_rotation: int = 0
    # The Kafka ACLs of the SCRAM logins (infra.kafka_acls). Default: none.
    acls: Sequence[Acl] = ()
    # Where the deployer reaches the brokers from (`multicloud-kafka:kafkaAdmin`);
    # required when `acls` is not empty.
    kafka_admin: KafkaAdmin | None = None


class MskCluster(pulumi.ComponentResource):
    """A private, provisioned MSK cluster: TLS only, KMS at rest, IAM (+ SCRAM) auth.

    Brokers spread evenly over the subnets' AZs, an `aws.msk.Configuration`
    with the broker defaults above, a customer KMS key for data at rest,
    broker logs to CloudWatch, enhanced monitoring, no public access. SCRAM
    users get a random password each, kept only in Secrets Manager, encrypted
    with a second customer key (MSK refuses the default).

    A replicator source also gets multi-VPC private connectivity for IAM and
    a cluster policy for MSK Replicator. MSK refuses that connectivity in
    CreateCluster; the AWS provider sends the cluster without it, waits for
    ACTIVE and applies it with UpdateConnectivity, all within one create
    (docs/cloud-rules.md), so one `pulumi up` makes the whole cluster.

    The cluster, its KMS key and its configuration are `retain_on_delete`:
    when the plan drops a cluster, Pulumi forgets it and AWS keeps it (and the
    key that decrypts its data); delete it by hand once drained.
    """

    TYPE = "multicloud-kafka:aws:MskCluster"

    def __init__(self, name: str, args: MskClusterArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=False)
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True)
        s = args.settings
        brokers = len(args.subnet_ids) * s.brokers_per_az
        self.scram_secrets: dict[str, aws.secretsmanager.Secret] = {}
        # user -> password (a Pulumi secret), for clients this program configures itself
        # (MirrorMaker 2 on GCP Managed Kafka Connect reading this cluster).
        self.scram_passwords: dict[str, pulumi.Output[str]] = {}
        self._identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.key = aws.kms.Key(
            f"{name}-data",
            description=f"MSK {name}: data at rest",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=self._key_policy(args.region, ["kafka"]),
            opts=keep,
        )
        self.configuration = aws.msk.Configuration(
            f"{name}-config",
            name=name,
            kafka_versions=[s.kafka_version],
            server_properties="".join(f"{k}={v}\n" for k, v in server_properties(brokers).items()),
            description=f"Broker defaults of {name}",
            opts=keep,
        )
        self.log_group = log_group(
            f"{name}-brokers", f"/msk/{name}/brokers", args.log_key_arn, args.log_retention_days, child
        )
        vpc_connectivity = None
        if args.replicator_source:
            vpc_connectivity = aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoVpcConnectivityArgs(
                client_authentication=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoVpcConnectivityClientAuthenticationArgs(
                    sasl=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoVpcConnectivityClientAuthenticationSaslArgs(
                        iam=True, scram=False
                    ),
                    tls=False,
                )
            )
        self.cluster = aws.msk.Cluster(
            name,
            cluster_name=name,
            kafka_version=s.kafka_version,
            number_of_broker_nodes=brokers,
            broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
                client_subnets=args.subnet_ids,
                instance_type=s.instance_type,
                security_groups=[args.security_group_id],
                storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoArgs(
                    ebs_storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoEbsStorageInfoArgs(
                        volume_size=s.volume_gib
                    )
                ),
                connectivity_info=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoArgs(
                    public_access=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoPublicAccessArgs(type="DISABLED"),
                    vpc_connectivity=vpc_connectivity,
                ),
            ),
            encryption_info=aws.msk.ClusterEncryptionInfoArgs(
                encryption_at_rest_kms_key_arn=self.key.arn,
                encryption_in_transit=aws.msk.ClusterEncryptionInfoEncryptionInTransitArgs(
                    client_broker="TLS", in_cluster=True
                ),
            ),
            client_authentication=aws.msk.ClusterClientAuthenticationArgs(
                unauthenticated=False,
                sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True, scram=bool(args.scram_users)),
            ),
            configuration_info=aws.msk.ClusterConfigurationInfoArgs(
                arn=self.configuration.arn, revision=self.configuration.latest_revision
            ),
            enhanced_monitoring=ENHANCED_MONITORING,
            logging_info=aws.msk.ClusterLoggingInfoArgs(
                broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
                    cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(
                        enabled=True, log_group=self.log_group.name
                    )
                )
            ),
            opts=keep,
        )
        # What a cross-region replicator waits for before it reads this cluster.
        self.replicator_policy: aws.msk.ClusterPolicy | None = None
        if args.replicator_source:
            self.replicator_policy = aws.msk.ClusterPolicy(
                f"{name}-replicator",
                cluster_arn=self.cluster.arn,
                policy=self.cluster.arn.apply(lambda arn: json.dumps(replicator_source_policy(arn))),
                opts=child,
            )
        self._iam = self.cluster.bootstrap_brokers_sasl_iam
        self._scram = self.cluster.bootstrap_brokers_sasl_scram if args.scram_users else None
        if args.scram_users:
            self._scram_users(name, args.region, args.scram_users, args.scram_rotation, child)
        self.acls: KafkaAcls | None = None
        if args.acls:
            self.acls = self._acls(name, args, child)
        self.arn = self.cluster.arn
        self.register_outputs(
            {"arn": self.arn, "bootstrapIam": self._iam, **({"bootstrapScram": self._scram} if self._scram else {})}
        )

    def _key_policy(self, region: str, services: list[str]) -> pulumi.Output[str]:
        """The account administers the key; the principals of the account use it only through `services`."""
        return self._identity.apply(
            lambda i: json.dumps(
                key_policies.via_services_key_policy(key_policies.partition_of(i.arn), i.account_id, region, services)
            )
        )

    def _scram_users(
        self, name: str, region: str, users: Sequence[str], rotation: int, child: pulumi.ResourceOptions
    ) -> None:
        # Secrets Manager encrypts the logins; MSK reads them through Secrets Manager.
        secrets_key = aws.kms.Key(
            f"{name}-scram",
            description=f"MSK {name}: SCRAM credentials in Secrets Manager",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=self._key_policy(region, ["kafka", "secretsmanager"]),
            opts=child,
        )
        versions = []
        for user in users:
            password = random.RandomPassword(
                f"{name}-scram-{user}",
                length=32,
                special=False,
                keepers={"scramRotation": str(rotation)} if rotation else None,
                opts=child,
            )
            self.scram_passwords[user] = pulumi.Output.secret(password.result)
            # MSK only associates secrets whose name starts with AmazonMSK_.
            secret = aws.secretsmanager.Secret(
                f"{name}-scram-{user}",
                name=f"AmazonMSK_{name}_{user}",
                description=f"SASL/SCRAM login of {user} clients on MSK {name}",
                kms_key_id=secrets_key.arn,
                opts=child,
            )
            versions.append(
                aws.secretsmanager.SecretVersion(
                    f"{name}-scram-{user}",
                    secret_id=secret.id,
                    secret_string=pulumi.Output.json_dumps({"username": user, "password": password.result}),
                    opts=child,
                )
            )
            # MSK attaches this policy itself on association; declaring it
            # keeps Pulumi's state free of a perpetual diff.
            aws.secretsmanager.SecretPolicy(
                f"{name}-scram-{user}",
                secret_arn=secret.arn,
                policy=pulumi.Output.json_dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "AWSKafkaResourcePolicy",
                                "Effect": "Allow",
                                "Principal": {"Service": "kafka.amazonaws.com"},
                                "Action": "secretsmanager:getSecretValue",
                                "Resource": secret.arn,
                            }
                        ],
                    }
                ),
                opts=child,
            )
            self.scram_secrets[user] = secret
        aws.msk.ScramSecretAssociation(
            f"{name}-scram",
            cluster_arn=self.cluster.arn,
            secret_arn_lists=[s.arn for s in self.scram_secrets.values()],
            opts=pulumi.ResourceOptions(parent=self, depends_on=versions),
        )

    def _acls(self, name: str, args: MskClusterArgs, child: pulumi.ResourceOptions) -> KafkaAcls:
        """The SCRAM logins' ACLs, made through the brokers' IAM listeners (infra/components/kafka/provider.py)."""
        if args.kafka_admin is None:
            raise ValueError(f"{name}: Kafka ACLs need multicloud-kafka:kafkaAdmin, which is not set")
        admin = kafka_provider.msk_admin(
            name, self._iam, args.region, args.settings.kafka_version, args.kafka_admin, child
        )
        return KafkaAcls(f"{name}-acls", KafkaAclsArgs(args.acls, admin), child)

    def bootstrap(self, client_cloud: str) -> pulumi.Output[str]:
        """IAM listeners for AWS clients, SCRAM listeners for the other cloud's."""
        if client_cloud == geo.AWS:
            return self._iam
        if self._scram is None:
            raise ValueError(f"{self._name}: no SCRAM users, so clients in {client_cloud} cannot connect")
        return self._scram


def replicator_sources(plan: Plan) -> set[str]:
    """Keys of the clusters an MSK Replicator reads from another region.

    "Prepare the Amazon MSK source cluster" asks of a cross-region
    replicator's source multi-VPC private connectivity for IAM and a cluster
    policy (a same-region one, such as the standby hub feeding its region's
    local cluster, needs neither). Both hubs are prepared when MSK Replicator
    copies between them: an activeHub flip reverses that flow, and turning
    the connectivity on and off at each flip would update a cluster for
    nothing, slowly.
    """
    hubs = {ClusterRole.HUB, ClusterRole.STANDBY}
    out = set()
    for f in plan.mirrors.values():
        source, target = plan.clusters[f.source], plan.clusters[f.target]
        if f.mechanism != MirrorMechanism.MSK_REPLICATOR or source.region == target.region:
            continue
        out.add(f.source)
        if source.role in hubs and target.role in hubs:
            out.add(f.target)
    return out


def realize_cluster(ctx: Context, planned: Cluster, network: Network) -> MskCluster:
    net = expect(network, AwsNetwork, f"cluster {planned.key}")
    users = ctx.plan.logins(planned.key)
    return MskCluster(
        planned.name,
        MskClusterArgs(
            region=planned.region.name,
            subnet_ids=net.subnet_ids,
            security_group_id=net.kafka_security_group().id,
            log_key_arn=net.log_key.arn,
            log_retention_days=net.log_retention_days,
            settings=ctx.plan.config.msk,
            scram_users=users,
            protect=ctx.protect,
            scram_rotation=ctx.plan.config.scram_rotation,
            replicator_source=planned.key in replicator_sources(ctx.plan),
            acls=kafka_acls.acls(ctx.plan)[planned.key],
            kafka_admin=ctx.plan.config.kafka_admin,
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(planned.region)),
    )


def acl_clusters(plan: Plan) -> list[str]:
    """Keys of the MSK clusters with SCRAM logins: their Kafka ACLs go through pulumi-kafka."""
    return [key for key, c in plan.clusters.items() if c.region.cloud == geo.AWS and plan.logins(key)]


def problems(plan: Plan) -> list[str]:
    """What the plan asks of MSK that MSK cannot do, per cluster and topic."""
    out = kafka_admin.problems(plan, acl_clusters(plan))
    msk = plan.config.msk
    instance = f"{k('msk')}.instanceType"
    replicated = {
        key
        for f in plan.mirrors.values()
        if f.mechanism == MirrorMechanism.MSK_REPLICATOR
        for key in (f.source, f.target)
    }
    for key, cluster in plan.clusters.items():
        if cluster.region.cloud != geo.AWS:
            continue
        brokers = aws_rules.az_count(cluster.region.name) * msk.brokers_per_az
        if key in replicated:
            out.extend(_replicator_problems(plan, key, brokers, instance))
        for topic in plan.topics.get(key, {}).values():
            if topic.settings.replication_factor > brokers:
                out.append(
                    f"topic {topic.name} on cluster {key}: replicationFactor {topic.settings.replication_factor} "
                    f"exceeds the cluster's {brokers} brokers: raise multicloud-kafka:msk.brokersPerAz or lower "
                    f"multicloud-kafka:events.{topic.event}.replicationFactor"
                )
    return out


def _replicator_problems(plan: Plan, key: str, brokers: int, instance: str) -> list[str]:
    """ "Supported cluster types and versions for MSK Replicator" and the multi-VPC limits."""
    msk = plan.config.msk
    region = plan.clusters[key].region
    out = []
    if msk.instance_type == aws_rules.T3_SMALL:
        needs = (
            "MSK Replicator and multi-VPC private connectivity" if key in replicator_sources(plan) else "MSK Replicator"
        )
        out.append(
            f"cluster {key}: {instance} = {msk.instance_type!r}: {needs} do not support t3.small brokers, "
            "and this plan mirrors between MSK clusters: use kafka.m7g.large or larger"
        )
    least = aws_rules.min_replicator_brokers(region.name)
    if brokers < least:
        out.append(
            f"cluster {key}: multicloud-kafka:msk.brokersPerAz = {msk.brokers_per_az} gives {brokers} brokers over "
            f"{aws_rules.az_count(region.name)} AZs; MSK Replicator needs at least {least} on each cluster it "
            f"reads or writes: raise brokersPerAz to {-(-least // aws_rules.az_count(region.name))}"
        )
    return out
