"""One GCP Managed Service for Apache Kafka cluster, with logins for the other cloud."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from infra import naming
from infra.components.base import Context, Network, expect
from infra.components.gcp.network import GcpRegionNetwork
from infra.config import ManagedKafkaSettings
from infra.geo import Region
from infra.plan import Cluster

GIB = 1024**3
# "Configure message encryption" (Managed Service for Apache Kafka): the
# service agent needs this role on the cluster's customer-managed key.
KMS_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
KEY_ROTATION = f"{90 * 24 * 3600}s"
# Service account IDs: 6-30 characters.
ACCOUNT_ID_MAX = 30
# In-GCP clients (and Managed Kafka Connect) authenticate as their own
# service account: OAUTHBEARER with Google's login handler, no secret.
GCP_CLIENT = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "OAUTHBEARER",
    "sasl.login.callback.handler.class": "com.google.cloud.hosted.kafka.auth.GcpLoginCallbackHandler",
    "sasl.jaas.config": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
}


def account_id(cluster_name: str, login: str) -> str:
    """A service account ID for one login on one cluster.

    IDs allow 30 characters, too few for both names: a readable head and a
    hash of the pair, stable for as long as the cluster and login exist.
    """
    return naming.hashed(cluster_name, f"{cluster_name}|{login}", ACCOUNT_ID_MAX)


def service_agent_email(project_number: str) -> str:
    """The Managed Kafka service agent of a project: it uses the cluster keys and runs Connect clusters."""
    return f"service-{project_number}@gcp-sa-managedkafka.iam.gserviceaccount.com"


def service_agent(project_number: str) -> str:
    """The Managed Kafka service agent of a project, as an IAM member."""
    return f"serviceAccount:{service_agent_email(project_number)}"


def sasl_plain(username: pulumi.Input[str], password: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """Kafka client properties of a SASL/PLAIN login; the JAAS line is a secret."""
    jaas: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.format(
            'org.apache.kafka.common.security.plain.PlainLoginModule required username="{0}" password="{1}";',
            username,
            password,
        )
    )
    return {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.jaas.config": jaas}


@dataclass(frozen=True)
class SaslLogin:
    """A service account's SASL/PLAIN login: its email, its key file (base64) and its IAM member."""

    username: pulumi.Output[str]
    password: pulumi.Output[str]
    member: pulumi.Output[str]

    def client_properties(self) -> dict[str, pulumi.Input[str]]:
        return sasl_plain(self.username, self.password)


@dataclass(frozen=True)
class ManagedKafkaClusterArgs:
    project: str
    region: Region
    # projects/P/regions/R/subnetworks/S: the region's subnet, where the
    # brokers' addresses and DNS names are made.
    subnet: pulumi.Input[str]
    settings: ManagedKafkaSettings = field(default_factory=ManagedKafkaSettings)
    # Logins of the other cloud's principals (Plan.logins). Each gets a
    # service account with a key, for SASL/PLAIN. Default: none, no keys.
    foreign_clients: Sequence[str] = ()
    # Pulumi `protect` on the cluster.
    protect: bool = True
    # The generation of the logins' keys (`multicloud-kafka:scramRotation`, which
    # rotates every credential the program makes): a new one replaces every key.
    # 0, the first, keeps none, so keys made before rotation existed stay.
    key_rotation: int = 0


class ManagedKafkaCluster(pulumi.ComponentResource):
    """A private Managed Kafka cluster in one region, on that region's subnet.

    Managed Kafka encrypts at rest, here with a customer-managed Cloud KMS key
    of the cluster's region (rotated every 90 days, usable by the Managed
    Kafka service agent only), and in transit (TLS only), and authenticates every client as a Google principal: in GCP with
    OAUTHBEARER (the workload's own service account), from AWS with
    SASL/PLAIN, whose username is a service account and whose password is
    that account's key (a Pulumi secret). What any principal may do here,
    the connect permission included, is granted by `gcp.access.GcpAccess`
    from the plan's grants: nothing project-wide.

    The cluster, its key ring and its key are `retain_on_delete`: when the
    plan drops the cluster, Pulumi forgets them and GCP keeps them with the
    data (Cloud KMS never deletes key rings and keys anyway); delete the
    cluster by hand once drained. The key is set at creation and cannot change.
    """

    TYPE = "multicloud-kafka:gcp:ManagedKafkaCluster"

    def __init__(self, name: str, args: ManagedKafkaClusterArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        self.region = args.region
        self.cluster_name = name
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True)
        self.key_ring = gcp.kms.KeyRing(
            f"{name}-data", name=name, project=args.project, location=args.region.name, opts=keep
        )
        self.key = gcp.kms.CryptoKey(
            f"{name}-data",
            name=f"{name}-data",
            key_ring=self.key_ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=KEY_ROTATION,
            opts=keep,
        )
        project_number = gcp.organizations.get_project_output(
            project_id=args.project, opts=pulumi.InvokeOutputOptions(parent=self)
        ).number
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-data",
            crypto_key_id=self.key.id,
            role=KMS_ROLE,
            member=project_number.apply(service_agent),
            opts=child,
        )
        self.cluster = gcp.managedkafka.Cluster(
            name,
            cluster_id=name,
            project=args.project,
            location=args.region.name,
            capacity_config=gcp.managedkafka.ClusterCapacityConfigArgs(
                vcpu_count=str(s.vcpu_count), memory_bytes=str(s.memory_gib * GIB)
            ),
            gcp_config=gcp.managedkafka.ClusterGcpConfigArgs(
                access_config=gcp.managedkafka.ClusterGcpConfigAccessConfigArgs(
                    network_configs=[gcp.managedkafka.ClusterGcpConfigAccessConfigNetworkConfigArgs(subnet=args.subnet)]
                ),
                kms_key=self.key.id,
            ),
            # Growing the cluster should spread existing partitions onto the
            # new brokers without an operator.
            rebalance_config=gcp.managedkafka.ClusterRebalanceConfigArgs(mode="AUTO_REBALANCE_ON_SCALE_UP"),
            opts=pulumi.ResourceOptions.merge(keep, pulumi.ResourceOptions(depends_on=[grant])),
        )
        # projects/P/locations/L/clusters/C, the form Managed Kafka Connect asks for.
        self.path = self.cluster.cluster_id.apply(
            lambda c: f"projects/{args.project}/locations/{args.region.name}/clusters/{c}"
        )
        self.logins: dict[str, SaslLogin] = {}
        for login in args.foreign_clients:
            self.logins[login] = self._login(name, args, login, child)
        self.register_outputs(
            {
                "clusterId": self.cluster.cluster_id,
                "bootstrap": self.cluster.bootstrap_address,
                "foreignClients": {k: v.username for k, v in self.logins.items()},
            }
        )

    def _login(self, name: str, args: ManagedKafkaClusterArgs, login: str, child: pulumi.ResourceOptions) -> SaslLogin:
        slug = login
        account = gcp.serviceaccount.Account(
            f"{name}-{slug}",
            account_id=account_id(name, login),
            project=args.project,
            display_name=f"Kafka login {login} of {name}"[:100],
            description=f"SASL/PLAIN login {login} of the other cloud's clients on Managed Kafka cluster {name}",
            opts=child,
        )
        key = gcp.serviceaccount.Key(
            f"{name}-{slug}",
            service_account_id=account.name,
            keepers={"rotation": str(args.key_rotation)} if args.key_rotation else None,
            opts=child,
        )
        return SaslLogin(username=account.email, password=pulumi.Output.secret(key.private_key), member=account.member)

    def bootstrap(self, client_cloud: str) -> pulumi.Output[str]:
        """One listener (SASL over TLS, port 9092) serves clients of both clouds."""
        return self.cluster.bootstrap_address

    def client_properties(self, login: str | None) -> Mapping[str, pulumi.Input[str]]:
        """How a client authenticates here: with its `login` (Plan.logins), or None for its own identity."""
        if login is None:
            return dict(GCP_CLIENT)
        return self.logins[login].client_properties()


def realize_cluster(ctx: Context, planned: Cluster, network: Network) -> ManagedKafkaCluster:
    net = expect(network, GcpRegionNetwork, f"cluster {planned.key}")
    return ManagedKafkaCluster(
        planned.name,
        ManagedKafkaClusterArgs(
            project=ctx.gcp_project,
            region=planned.region,
            subnet=net.subnet_path(),
            settings=ctx.plan.config.managed_kafka,
            foreign_clients=ctx.plan.logins(planned.key),
            protect=ctx.protect,
            key_rotation=ctx.plan.config.scram_rotation,
        ),
        pulumi.ResourceOptions(parent=ctx.parent, provider=net.provider),
    )
