"""One mirror flow from a GCP cluster into MSK: MSK Connect running MirrorMaker 2.

No password or key sits in a connector configuration: a side reached with a
login (the GCP source's service account key, an MSK side's SCRAM password)
gets a Secrets Manager secret of the flow's own, and the connectors name it
by reference (infra/secretrefs.py), resolved by this project's config
provider in the plugin (plugins/secretsmanager-config-provider).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import access, key_policies, mirrormaker, naming, network, plugin_jars, secretrefs
from infra.components.aws.msk import MskCluster
from infra.components.aws.network import AwsNetwork, log_group
from infra.components.base import Context, Site, expect
from infra.components.crosscloud import endpoints
from infra.plan import MirrorFlow

KAFKA_CONNECT_VERSION = "3.7.x"
# One worker of one MCU (1 vCPU, 4 GiB) carries a region's few topics.
WORKERS = 1
MCU_PER_WORKER = 1
S3_BUCKET_MAX = 63
ACCOUNT_ID_LENGTH = 12
MSK_IAM_PORT = 9098
HTTPS_PORT = 443
WORKER_PROPERTIES = "".join(
    f"{k}={v}\n"
    for k, v in {
        "key.converter": mirrormaker.BYTES,
        "value.converter": mirrormaker.BYTES,
    }.items()
)


def bucket_name(name: str, account_id: str) -> str:
    """<name>-mm2-<account ID>, within S3's 63 characters.

    Bucket names are global across every AWS account: the account ID keeps
    another account's stack with the same prefix from taking ours.
    """
    return f"{naming.bounded(f'{name}-mm2', S3_BUCKET_MAX - ACCOUNT_ID_LENGTH - 1)}-{account_id}"


def log_bucket_name(name: str, account_id: str) -> str:
    """<name>-mm2-logs-<account ID>: where the plugin bucket's access logs go."""
    return f"{naming.bounded(f'{name}-mm2-logs', S3_BUCKET_MAX - ACCOUNT_ID_LENGTH - 1)}-{account_id}"


def access_log_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> dict[str, Any]:
    """S3's logging service may write the source bucket's access logs, for this account only
    ("Enabling Amazon S3 server access logging", Amazon S3 User Guide)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        ],
    }


def _arns(cluster_arn: str, kind: str, names: Sequence[str]) -> list[str]:
    """arn:...:cluster/<name>/<uuid> -> arn:...:<kind>/<name>/<uuid>/<each name>."""
    base = cluster_arn.replace(":cluster/", f":{kind}/", 1)
    return [f"{base}/{n}" for n in names]


def logins_statements(secret_arns: Sequence[str], key_arn: str, region: str) -> list[dict[str, Any]]:
    """Read exactly the flow's login secrets, and decrypt them only through Secrets Manager of the region."""
    if not secret_arns:
        return []
    return [
        {
            "Sid": "ReadLogins",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": sorted(secret_arns),
        },
        {
            "Sid": "DecryptLogins",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": [key_arn],
            "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
        },
    ]


def execution_policy(
    target_arn: str,
    topics: Sequence[str],
    groups: Sequence[str] = (),
    secret_arns: Sequence[str] = (),
    key_arn: str = "",
    region: str = "",
) -> dict[str, Any]:
    """What MirrorMaker 2 may do on the target: write the flow's topics, its own
    internal topics (Connect's `__amazon_msk_connect_*`, MirrorMaker's offset
    syncs and checkpoints), MSK Connect's own consumer groups
    (`__amazon_msk_connect_*`) and the groups whose offsets the checkpoint
    connector translates (`groups`, prefixes: the target region's services'),
    never every group. The source is in GCP, outside IAM: it is reached with
    its own SASL/PLAIN login, which the workers read from the flow's secrets
    (`secret_arns`, encrypted with `key_arn`) and from nothing else.
    """
    internal = ["__amazon_msk_connect_*", "mm2-offset-syncs.*", "*.checkpoints.internal"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            *logins_statements(secret_arns, key_arn, region),
            {
                "Sid": "Cluster",
                "Effect": "Allow",
                "Action": [
                    "kafka-cluster:Connect",
                    "kafka-cluster:DescribeCluster",
                    "kafka-cluster:WriteDataIdempotently",
                ],
                "Resource": [target_arn],
            },
            {
                "Sid": "FlowTopics",
                "Effect": "Allow",
                "Action": [
                    "kafka-cluster:DescribeTopic",
                    "kafka-cluster:DescribeTopicDynamicConfiguration",
                    "kafka-cluster:WriteData",
                ],
                "Resource": _arns(target_arn, "topic", topics),
            },
            {
                "Sid": "InternalTopics",
                "Effect": "Allow",
                "Action": [
                    "kafka-cluster:CreateTopic",
                    "kafka-cluster:DescribeTopic",
                    "kafka-cluster:DescribeTopicDynamicConfiguration",
                    "kafka-cluster:AlterTopicDynamicConfiguration",
                    "kafka-cluster:ReadData",
                    "kafka-cluster:WriteData",
                ],
                "Resource": _arns(target_arn, "topic", internal),
            },
            {
                "Sid": "ConsumerGroups",
                "Effect": "Allow",
                "Action": ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                "Resource": _arns(target_arn, "group", ["__amazon_msk_connect_*", *(f"{g}*" for g in groups)]),
            },
        ],
    }


def _service_key(
    name: str,
    description: str,
    identity: pulumi.Output[Any],
    region: str,
    service: str,
    opts: pulumi.ResourceOptions,
) -> aws.kms.Key:
    """A rotated customer key that only `service` may use, in `region`, on the account's behalf."""
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=identity.apply(
            lambda i: json.dumps(
                key_policies.via_services_key_policy(key_policies.partition_of(i.arn), i.account_id, region, [service])
            )
        ),
        opts=opts,
    )


@dataclass(frozen=True)
class MskConnectMirrorArgs:
    flow: MirrorFlow
    # The two sides; a side's login goes into a secret of the flow's, never into a connector config.
    source: endpoints.Side
    target: endpoints.Side
    target_cluster_arn: pulumi.Input[str]
    # Prefixes of the consumer groups whose offsets the checkpoint connector
    # commits on the target (access.group_prefix of the target region).
    groups: Sequence[str]
    # Where the workers run: the target's VPC.
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    # The source's CIDR and Kafka ports, the target VPC's CIDR: the workers'
    # security group lets them reach exactly those.
    source_cidr: str
    source_ports: Sequence[int]
    target_cidr: str
    # The target's AWS region, named in the plugin key's policy.
    region: str
    # The target region's log key (AwsNetwork.log_key) and retention: the workers' logs.
    log_key_arn: pulumi.Input[str]
    log_retention_days: int
    # Resources to exist first: the target's topics, the source's logins.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    # How the workers reach Secrets Manager from the target's VPC (its
    # interface endpoint, AwsNetwork.secrets_manager_endpoint): needed, and
    # waited for, only when a side has a login.
    secrets_endpoint: pulumi.Resource | None = None
    # The plugin zip on local disk. Default: infra.plugin_jars.plugin_zip(),
    # the pinned jars, fetched once into the cache.
    plugin_zip: str = ""


class MskConnectMirror(pulumi.ComponentResource):
    """MirrorMaker 2 on MSK Connect, attached to the target MSK cluster (IAM auth).

    Owns the MirrorMaker 2 plugin (Kafka's own connect-mirror jars and the
    Secrets Manager config provider, pinned by checksum, uploaded to a
    private bucket named with the account ID), a worker configuration that
    declares the provider, a secret per login (under a key of its own that
    principals use only through Secrets Manager), the service execution role
    (which may read exactly those secrets), the workers' log group and
    security group, and one MSK Connect connector per MirrorMaker 2
    connector of `infra.mirrormaker.connector_configs`, which names the
    logins by reference only.
    """

    TYPE = "multicloud-kafka:aws:MskConnectMirror"

    def __init__(self, name: str, args: MskConnectMirrorArgs, opts: pulumi.ResourceOptions):
        logins = {side: s.login for side, s in (("source", args.source), ("target", args.target)) if s.login}
        if logins and args.secrets_endpoint is None:
            raise ValueError(f"{name}: a login in Secrets Manager needs the VPC's Secrets Manager endpoint")
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topics = sorted(args.flow.topics)
        groups = sorted(args.groups)

        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        account = identity.account_id
        self.bucket = aws.s3.Bucket(
            f"{name}-plugin", bucket=account.apply(lambda a: bucket_name(name, a)), force_destroy=True, opts=child
        )
        self._plugin_bucket_hardened(name, args.region, identity, child)
        archive = aws.s3.BucketObjectv2(
            f"{name}-plugin",
            bucket=self.bucket.bucket,
            key="mirrormaker2.zip",
            source=pulumi.FileAsset(args.plugin_zip or str(plugin_jars.plugin_zip())),
            opts=child,
        )
        self.plugin = aws.mskconnect.CustomPlugin(
            f"{name}-mm2",
            name=f"{name}-mm2",
            content_type="ZIP",
            location=aws.mskconnect.CustomPluginLocationArgs(
                s3=aws.mskconnect.CustomPluginLocationS3Args(bucket_arn=self.bucket.arn, file_key=archive.key)
            ),
            opts=child,
        )
        self.secrets: dict[str, aws.secretsmanager.Secret] = {}
        self.secrets_key: aws.kms.Key | None = None
        sides = {side: s.endpoint() for side, s in (("source", args.source), ("target", args.target)) if not s.login}
        if logins:
            self.secrets_key = _service_key(
                f"{name}-logins",
                f"MSK Connect {name}: the MirrorMaker 2 logins in Secrets Manager",
                identity,
                args.region,
                "secretsmanager",
                child,
            )
            for side, login in logins.items():
                sides[side] = self._login_secret(name, side, login, self.secrets_key, args, child)
        properties = WORKER_PROPERTIES
        if logins:
            properties += "".join(f"{k}={v}\n" for k, v in secretrefs.worker_properties(args.region).items())
        self.worker_configuration = aws.mskconnect.WorkerConfiguration(
            f"{name}-workers",
            name=f"{name}-workers",
            properties_file_content=properties,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=naming.bounded(f"{name}-mm2", 64),
            description=f"MirrorMaker 2 on MSK Connect: {args.flow.key}",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "kafkaconnect.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        key_arn: pulumi.Input[str] = self.secrets_key.arn if self.secrets_key is not None else ""
        policy = aws.iam.RolePolicy(
            f"{name}-role",
            role=self.role.id,
            policy=pulumi.Output.all(args.target_cluster_arn, key_arn, *(s.arn for s in self.secrets.values())).apply(
                lambda v: json.dumps(execution_policy(v[0], topics, groups, v[2:], v[1], args.region))
            ),
            opts=child,
        )
        self.log_group = log_group(
            f"{name}-workers", f"/msk-connect/{name}", args.log_key_arn, args.log_retention_days, child
        )
        # Egress only: to the source's Kafka ports over the VPN, to the
        # target's IAM listener in this VPC, and with logins to Secrets
        # Manager's endpoint in this VPC.
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-workers",
            name=f"{name}-workers",
            description=f"MirrorMaker 2 workers of {args.flow.key}",
            vpc_id=args.vpc_id,
            egress=[
                *(
                    aws.ec2.SecurityGroupEgressArgs(
                        protocol="tcp",
                        from_port=p,
                        to_port=p,
                        cidr_blocks=[args.source_cidr],
                        description=f"source Kafka {p}",
                    )
                    for p in args.source_ports
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=MSK_IAM_PORT,
                    to_port=MSK_IAM_PORT,
                    cidr_blocks=[args.target_cidr],
                    description="target MSK (IAM)",
                ),
                *(
                    [
                        aws.ec2.SecurityGroupEgressArgs(
                            protocol="tcp",
                            from_port=HTTPS_PORT,
                            to_port=HTTPS_PORT,
                            cidr_blocks=[args.target_cidr],
                            description="Secrets Manager endpoint",
                        )
                    ]
                    if logins
                    else []
                ),
            ],
            tags={"Name": f"{name}-workers"},
            opts=child,
        )
        configs = mirrormaker.connector_configs(args.flow, sides["source"], sides["target"])
        if logins:
            configs = {k: {**c, **secretrefs.NO_RELOAD} for k, c in configs.items()}
        waits = [policy, *args.depends_on, *([args.secrets_endpoint] if args.secrets_endpoint else [])]
        after = pulumi.ResourceOptions(parent=self, depends_on=waits)
        self.connectors: dict[str, aws.mskconnect.Connector] = {}
        for role, connector in mirrormaker.connector_names(args.flow).items():
            self.connectors[connector] = aws.mskconnect.Connector(
                f"{name}-{role}",
                name=connector,
                description=f"MirrorMaker 2 {role} connector of {args.flow.key}",
                kafkaconnect_version=KAFKA_CONNECT_VERSION,
                connector_configuration=configs[connector],
                capacity=aws.mskconnect.ConnectorCapacityArgs(
                    provisioned_capacity=aws.mskconnect.ConnectorCapacityProvisionedCapacityArgs(
                        worker_count=WORKERS, mcu_count=MCU_PER_WORKER
                    )
                ),
                kafka_cluster=aws.mskconnect.ConnectorKafkaClusterArgs(
                    apache_kafka_cluster=aws.mskconnect.ConnectorKafkaClusterApacheKafkaClusterArgs(
                        bootstrap_servers=args.target.bootstrap,
                        vpc=aws.mskconnect.ConnectorKafkaClusterApacheKafkaClusterVpcArgs(
                            subnets=list(args.subnet_ids), security_groups=[self.security_group.id]
                        ),
                    )
                ),
                kafka_cluster_client_authentication=aws.mskconnect.ConnectorKafkaClusterClientAuthenticationArgs(
                    authentication_type="IAM"
                ),
                kafka_cluster_encryption_in_transit=aws.mskconnect.ConnectorKafkaClusterEncryptionInTransitArgs(
                    encryption_type="TLS"
                ),
                plugins=[
                    aws.mskconnect.ConnectorPluginArgs(
                        custom_plugin=aws.mskconnect.ConnectorPluginCustomPluginArgs(
                            arn=self.plugin.arn, revision=self.plugin.latest_revision
                        )
                    )
                ],
                worker_configuration=aws.mskconnect.ConnectorWorkerConfigurationArgs(
                    arn=self.worker_configuration.arn, revision=self.worker_configuration.latest_revision
                ),
                log_delivery=aws.mskconnect.ConnectorLogDeliveryArgs(
                    worker_log_delivery=aws.mskconnect.ConnectorLogDeliveryWorkerLogDeliveryArgs(
                        cloudwatch_logs=aws.mskconnect.ConnectorLogDeliveryWorkerLogDeliveryCloudwatchLogsArgs(
                            enabled=True, log_group=self.log_group.name
                        )
                    )
                ),
                service_execution_role_arn=self.role.arn,
                opts=after,
            )
        self.register_outputs({"connectors": {k: c.arn for k, c in self.connectors.items()}, "roleArn": self.role.arn})

    def _login_secret(
        self,
        name: str,
        side: str,
        login: endpoints.Login,
        key: aws.kms.Key,
        args: MskConnectMirrorArgs,
        child: pulumi.ResourceOptions,
    ) -> mirrormaker.Endpoint:
        """A secret holding one side's login; the side's endpoint with a reference to its current version."""
        secret_name = secretrefs.secret_name(name, side)
        secret = aws.secretsmanager.Secret(
            f"{name}-{side}-login",
            name=secret_name,
            description=f"MirrorMaker 2 login to the {side} of {args.flow.key}, read by its MSK Connect workers",
            kms_key_id=key.arn,
            # Deleted at once when the flow goes: its content is made again from the login whenever the flow
            # comes back, and a secret still in its recovery window would keep the name from being reused.
            recovery_window_in_days=0,
            opts=child,
        )
        version = aws.secretsmanager.SecretVersion(
            f"{name}-{side}-login",
            secret_id=secret.id,
            secret_string=pulumi.Output.json_dumps(
                {secretrefs.USERNAME: login.username, secretrefs.PASSWORD: login.password}
            ),
            opts=child,
        )
        self.secrets[side] = secret
        ref = version.version_id.apply(lambda v: secretrefs.reference(secret_name, secretrefs.PASSWORD, v))
        return (args.source if side == "source" else args.target).endpoint(ref)

    def _plugin_bucket_hardened(
        self,
        name: str,
        region: str,
        identity: pulumi.Output[aws.GetCallerIdentityResult],
        child: pulumi.ResourceOptions,
    ) -> None:
        """The plugin bucket: public access blocked, versioned, SSE-KMS under a key of its own that
        principals of the account use only through S3, access logged to a log bucket that blocks public
        access too. The log bucket is encrypted with S3's own key (SSE-S3): server access logs are not
        delivered to a bucket whose default encryption is SSE-KMS ("Enabling Amazon S3 server access
        logging", Amazon S3 User Guide)."""
        bucket = self.bucket
        _block_public_access(f"{name}-plugin", bucket, child)
        aws.s3.BucketVersioning(
            f"{name}-plugin",
            bucket=bucket.bucket,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        self.plugin_key = _service_key(
            f"{name}-plugin", f"MSK Connect {name}: the MirrorMaker 2 plugin in S3", identity, region, "s3", child
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-plugin",
            bucket=bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.plugin_key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        self.log_bucket = aws.s3.Bucket(
            f"{name}-plugin-logs",
            bucket=identity.account_id.apply(lambda a: log_bucket_name(name, a)),
            force_destroy=True,
            opts=child,
        )
        _block_public_access(f"{name}-plugin-logs", self.log_bucket, child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-plugin-logs",
            bucket=self.log_bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
            opts=child,
        )
        log_policy = aws.s3.BucketPolicy(
            f"{name}-plugin-logs",
            bucket=self.log_bucket.bucket,
            policy=pulumi.Output.all(self.log_bucket.arn, bucket.arn, identity.account_id).apply(
                lambda v: json.dumps(access_log_policy(v[0], v[1], v[2]))
            ),
            opts=child,
        )
        aws.s3.BucketLogging(
            f"{name}-plugin",
            bucket=bucket.bucket,
            target_bucket=self.log_bucket.bucket,
            target_prefix="plugin/",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy]),
        )


def _block_public_access(name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> None:
    aws.s3.BucketPublicAccessBlock(
        name,
        bucket=bucket.bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )


def realize_mirror(ctx: Context, flow: MirrorFlow, source: Site, target: Site) -> MskConnectMirror:
    region = target.plan.region
    cluster = expect(target.cluster, MskCluster, f"mirror flow {flow.key}")
    net = expect(target.network, AwsNetwork, f"mirror flow {flow.key}")
    src = endpoints.side(ctx.plan, source, access.mirror_key(flow.key))
    dst = endpoints.side(ctx.plan, target, access.mirror_key(flow.key))
    return MskConnectMirror(
        ctx.plan.flow_name(flow),
        MskConnectMirrorArgs(
            flow=flow,
            source=src,
            target=dst,
            target_cluster_arn=cluster.arn,
            groups=(access.group_prefix(region),),
            vpc_id=net.vpc.id,
            subnet_ids=net.subnet_ids,
            source_cidr=str(source.plan.region.cidr),
            source_ports=network.KAFKA_PORTS[source.plan.region.cloud],
            target_cidr=str(region.cidr),
            region=region.name,
            log_key_arn=net.log_key.arn,
            log_retention_days=net.log_retention_days,
            # The source is across a VPN: the connectors wait for its link,
            # and for the ACLs that let the flow's login read there.
            depends_on=[
                expect(source.cluster, pulumi.Resource, flow.key),
                *ctx.grants.get(source.plan.key, []),
                *target.topics.topics.values(),
                *ctx.path(source.plan.region.key, region.key),
            ],
            secrets_endpoint=net.secrets_manager_endpoint() if src.login or dst.login else None,
            plugin_zip=ctx.once("msk-connect-plugin", lambda: str(plugin_jars.plugin_zip())),
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(region)),
    )
