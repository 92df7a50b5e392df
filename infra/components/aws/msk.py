"""One MSK cluster with its configuration, encryption key, logs and auth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra import access, geo, network
from infra.components.aws.network import AwsNetwork
from infra.components.base import Context, Network, expect
from infra.config import MskSettings
from infra.plan import Cluster, Plan

# One replica per AZ; a write needs two, so one AZ can be down. These are
# the broker defaults for topics nobody declared (internal ones); planned
# topics carry their own settings.
DEFAULT_REPLICATION_FACTOR = network.AZ_COUNT
MIN_INSYNC_REPLICAS = network.AZ_COUNT - 1
SERVER_PROPERTIES = {
    "auto.create.topics.enable": "false",
    "default.replication.factor": str(DEFAULT_REPLICATION_FACTOR),
    "min.insync.replicas": str(MIN_INSYNC_REPLICAS),
    "unclean.leader.election.enable": "false",
}
ENHANCED_MONITORING = "PER_TOPIC_PER_BROKER"
LOG_RETENTION_DAYS = 30


@dataclass(frozen=True)
class MskClusterArgs:
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    settings: MskSettings = field(default_factory=MskSettings)
    # SCRAM users, one per other-cloud region that connects. Empty (default):
    # IAM auth only, no secrets. Provisioned clusters only.
    scram_users: Sequence[str] = ()
    # Pulumi `protect` on the cluster and the resources its data depends on.
    protect: bool = True


class MskCluster(pulumi.ComponentResource):
    """A private MSK cluster: TLS only, KMS at rest, IAM (+ SCRAM) auth.

    Provisioned (default): brokers spread over the subnets' AZs, an
    `aws.msk.Configuration` with the broker defaults above, a customer KMS key
    for data at rest, broker logs to CloudWatch, enhanced monitoring, no public
    access. SCRAM users get a random password each, kept only in Secrets
    Manager, encrypted with a second customer key (MSK refuses the default).

    Serverless (`settings.serverless`): IAM auth only; AWS owns the
    encryption key, logs and broker settings.

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
        self.scram_secrets: dict[str, aws.secretsmanager.Secret] = {}
        # user -> password (a Pulumi secret), for clients this program configures itself
        # (MirrorMaker 2 on GCP Managed Kafka Connect reading this cluster).
        self.scram_passwords: dict[str, pulumi.Output[str]] = {}
        if s.serverless:
            if args.scram_users:
                raise ValueError(f"{name}: serverless MSK has IAM auth only; it cannot serve SCRAM users")
            self.cluster = aws.msk.ServerlessCluster(
                name,
                cluster_name=name,
                vpc_configs=[
                    aws.msk.ServerlessClusterVpcConfigArgs(
                        subnet_ids=args.subnet_ids, security_group_ids=[args.security_group_id]
                    )
                ],
                client_authentication=aws.msk.ServerlessClusterClientAuthenticationArgs(
                    sasl=aws.msk.ServerlessClusterClientAuthenticationSaslArgs(
                        iam=aws.msk.ServerlessClusterClientAuthenticationSaslIamArgs(enabled=True)
                    )
                ),
                opts=keep,
            )
            self._iam = self.cluster.bootstrap_brokers_sasl_iam
            self._scram = None
        else:
            self.key = aws.kms.Key(
                f"{name}-data",
                description=f"MSK {name}: data at rest",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                opts=keep,
            )
            self.configuration = aws.msk.Configuration(
                f"{name}-config",
                name=name,
                kafka_versions=[s.kafka_version],
                server_properties="".join(f"{k}={v}\n" for k, v in SERVER_PROPERTIES.items()),
                description=f"Broker defaults of {name}",
                opts=keep,
            )
            self.log_group = aws.cloudwatch.LogGroup(
                f"{name}-brokers", name=f"/msk/{name}/brokers", retention_in_days=LOG_RETENTION_DAYS, opts=child
            )
            self.cluster = aws.msk.Cluster(
                name,
                cluster_name=name,
                kafka_version=s.kafka_version,
                number_of_broker_nodes=network.AZ_COUNT * s.brokers_per_az,
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
                        public_access=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoPublicAccessArgs(
                            type="DISABLED"
                        )
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
            self._iam = self.cluster.bootstrap_brokers_sasl_iam
            self._scram = self.cluster.bootstrap_brokers_sasl_scram if args.scram_users else None
            if args.scram_users:
                self._scram_users(name, args.scram_users, child)
        self.arn = self.cluster.arn
        self.register_outputs(
            {"arn": self.arn, "bootstrapIam": self._iam, **({"bootstrapScram": self._scram} if self._scram else {})}
        )

    def _scram_users(self, name: str, users: Sequence[str], child: pulumi.ResourceOptions) -> None:
        secrets_key = aws.kms.Key(
            f"{name}-scram",
            description=f"MSK {name}: SCRAM credentials in Secrets Manager",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=child,
        )
        versions = []
        for user in users:
            password = random.RandomPassword(f"{name}-scram-{user}", length=32, special=False, opts=child)
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

    def bootstrap(self, client_cloud: str) -> pulumi.Output[str]:
        """IAM listeners for AWS clients, SCRAM listeners for the other cloud's."""
        if client_cloud == geo.AWS:
            return self._iam
        if self._scram is None:
            raise ValueError(f"{self._name}: no SCRAM users, so clients in {client_cloud} cannot connect")
        return self._scram


def realize_cluster(ctx: Context, planned: Cluster, network: Network) -> MskCluster:
    net = expect(network, AwsNetwork, f"cluster {planned.key}")
    users = tuple(access.scram_username(ctx.plan.config.regions[r]) for r in ctx.plan.logins(planned.key))
    return MskCluster(
        planned.name,
        MskClusterArgs(
            subnet_ids=net.subnet_ids,
            security_group_id=net.security_group.id,
            settings=ctx.plan.config.msk,
            scram_users=users,
            protect=ctx.protect,
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(planned.region)),
    )


def problems(plan: Plan) -> list[str]:
    """What the plan asks of MSK that MSK cannot do, per cluster and topic."""
    out = []
    msk = plan.config.msk
    for key, cluster in plan.clusters.items():
        if cluster.region.cloud != geo.AWS:
            continue
        if msk.serverless and plan.logins(key):
            out.append(
                f"cluster {key}: multicloud-kafka:msk.serverless is true, but {', '.join(plan.logins(key))} "
                "in another cloud must connect with SASL/SCRAM, which serverless MSK lacks: set it to false"
            )
        brokers = network.AZ_COUNT * msk.brokers_per_az
        for topic in plan.topics.get(key, {}).values():
            if not msk.serverless and topic.settings.replication_factor > brokers:
                out.append(
                    f"topic {topic.name} on cluster {key}: replicationFactor {topic.settings.replication_factor} "
                    f"exceeds the cluster's {brokers} brokers: raise multicloud-kafka:msk.brokersPerAz or lower "
                    f"multicloud-kafka:events.{topic.event}.replicationFactor"
                )
    return out
