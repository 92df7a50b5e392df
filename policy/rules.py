"""The policy pack's rules as plain functions, testable without the Pulumi engine.

A resource rule takes one `Resource` (type token, input properties, options,
region) and returns its violations, one sentence each; a stack rule takes
every resource of the stack. `__main__.py` wraps each in a thin
ResourceValidationPolicy or StackValidationPolicy. The clouds' documented
limits come from `infra.aws_rules`, the same module the program plans with.
A property a preview does not know yet (an output of a resource still to be
created) is not judged: only what is known can be wrong.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra import aws_rules

MSK_CLUSTER = "aws:msk/cluster:Cluster"
MSK_SERVERLESS = "aws:msk/serverlessCluster:ServerlessCluster"
MSK_TOPIC = "aws:msk/topic:Topic"
MSK_CLUSTER_POLICY = "aws:msk/clusterPolicy:ClusterPolicy"
MSK_REPLICATOR = "aws:msk/replicator:Replicator"
MSK_CONNECTOR = "aws:mskconnect/connector:Connector"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET = "aws:s3/bucket:Bucket"
AWS_VPN = "aws:ec2/vpnConnection:VpnConnection"
GK_CLUSTER = "gcp:managedkafka/cluster:Cluster"
GCP_KMS_KEY = "gcp:kms/cryptoKey:CryptoKey"
GK_TOPIC = "gcp:managedkafka/topic:Topic"
GK_CONNECTOR = "gcp:managedkafka/connector:Connector"
GCP_SUBNET = "gcp:compute/subnetwork:Subnetwork"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
GCP_TUNNEL = "gcp:compute/vPNTunnel:VPNTunnel"
GCP_SERVICE = "gcp:projects/service:Service"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
HTTP_API = "aws:apigatewayv2/api:Api"
API_ROUTE = "aws:apigatewayv2/route:Route"
# The tag by which the program states who authenticates an API's requests.
API_AUTHORIZATION_TAG = "multicloud-kafka:authorization"
BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging"
# "Flow logging is not supported when the subnetwork purpose is
# REGIONAL_MANAGED_PROXY or GLOBAL_MANAGED_PROXY" (google_compute_subnetwork,
# log_config; INTERNAL_HTTPS_LOAD_BALANCER is the older name of the first).
GCP_NO_FLOW_LOG_PURPOSES = frozenset({"REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "INTERNAL_HTTPS_LOAD_BALANCER"})
# What a principal does with a key's data (anything but administering it).
KMS_USE_ACTIONS = ("kms:*", "kms:encrypt", "kms:decrypt", "kms:reencrypt", "kms:generatedatakey", "kms:creategrant")

# Resources whose deletion or replacement loses data: Kafka clusters and
# their topics. (MSK's data key is protected with its cluster by the program,
# but a policy cannot tell it from the key of the SCRAM secrets, which holds
# nothing that cannot be made again.)
DATA_HOLDING = frozenset({MSK_CLUSTER, MSK_TOPIC, GK_CLUSTER, GK_TOPIC})
# Google's load balancer health checkers: the only ranges outside the plan a
# firewall may admit ("Health checks overview", Cloud Load Balancing), and
# only to a port of the regional API's backends.
GCP_HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
# "Prepare the Amazon MSK source cluster" (MSK Replicator).
REPLICATOR_SOURCE_ACTIONS = frozenset(
    {"kafka:CreateVpcConnection", "kafka:GetBootstrapBrokers", "kafka:DescribeClusterV2"}
)
# "Topic replication permissions" (MSK Replicator service execution role).
REPLICATOR_INTERNAL_TOPICS = ("*__amazon_msk_replicator_*", "mskr-offset-syncs.*", "*.checkpoints.internal")
VPN_TYPES = frozenset({AWS_VPN, GCP_TUNNEL})


@dataclass(frozen=True)
class Resource:
    """What a policy sees of one resource: type token, inputs, options, where it runs."""

    type: str
    props: Mapping[str, Any]
    name: str = ""
    urn: str = ""
    protect: bool = False
    # The region of its provider ('' when the provider names none).
    region: str = ""
    provider_urn: str = ""
    # URNs of the resources it waits for (explicit and through its inputs).
    dependencies: tuple[str, ...] = field(default_factory=tuple)


Violations = list[str]
StackViolations = list[tuple[str, str]]


def _get(props: Mapping[str, Any], *path: str) -> Any:
    value: Any = props
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _known(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, dict)) and value != ""


# -- encryption at rest (customer keys) and in transit ----------------------


def encryption(r: Resource) -> Violations:
    """MSK and Managed Kafka: a customer key at rest; MSK: TLS between clients and
    brokers and between brokers; secrets under a customer key; keys rotated;
    connectors over TLS. (Managed Kafka accepts TLS only, by design.)"""
    p = r.props
    out: Violations = []
    if r.type == MSK_CLUSTER:
        if not _get(p, "encryptionInfo", "encryptionAtRestKmsKeyArn"):
            out.append(f"MSK cluster {r.name}: no customer KMS key at rest (encryptionInfo.encryptionAtRestKmsKeyArn)")
        transit = _get(p, "encryptionInfo", "encryptionInTransit") or {}
        if transit.get("clientBroker", "TLS") != "TLS" or transit.get("inCluster") is False:
            out.append(
                f"MSK cluster {r.name}: traffic not TLS-only (clientBroker={transit.get('clientBroker')!r}, "
                f"inCluster={transit.get('inCluster')!r}); set clientBroker TLS and inCluster true"
            )
    elif r.type == GK_CLUSTER and not _get(p, "gcpConfig", "kmsKey"):
        out.append(
            f"Managed Kafka cluster {r.name}: Google-managed key at rest; set gcpConfig.kmsKey to a Cloud KMS key"
        )
    elif r.type == GCP_KMS_KEY and not p.get("rotationPeriod"):
        out.append(f"Cloud KMS key {r.name}: never rotated; set rotationPeriod")
    elif r.type == SECRET and not p.get("kmsKeyId"):
        out.append(f"secret {r.name}: encrypted with the AWS-managed key; set kmsKeyId to a customer KMS key")
    elif r.type == KMS_KEY and p.get("enableKeyRotation") is not True:
        out.append(f"KMS key {r.name}: key rotation is off; set enableKeyRotation true")
    elif r.type == MSK_CONNECTOR and _get(p, "kafkaClusterEncryptionInTransit", "encryptionType") != "TLS":
        out.append(f"MSK Connect connector {r.name}: not TLS to the cluster; set kafkaClusterEncryptionInTransit TLS")
    return out


# -- no public access -------------------------------------------------------


def public_access(r: Resource) -> Violations:
    """No public brokers, no public IPs in the private subnets, no internet
    gateway, every bucket's public access blocked."""
    p = r.props
    if r.type == MSK_CLUSTER:
        kind = _get(p, "brokerNodeGroupInfo", "connectivityInfo", "publicAccess", "type") or "DISABLED"
        if kind != "DISABLED":
            return [f"MSK cluster {r.name}: public access {kind}; set connectivityInfo.publicAccess.type DISABLED"]
    elif r.type == SUBNET and p.get("mapPublicIpOnLaunch") is True:
        return [f"subnet {r.name}: gives instances public IPs; set mapPublicIpOnLaunch false"]
    elif r.type == INTERNET_GATEWAY:
        return [f"internet gateway {r.name}: the Kafka networks have no route to the internet; remove it"]
    elif r.type == PUBLIC_ACCESS_BLOCK:
        off = [
            k
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
            if p.get(k) is not True
        ]
        if off:
            return [f"bucket public access block {r.name}: {', '.join(off)} not true; set all four true"]
    return []


def buckets_blocked(resources: Sequence[Resource]) -> StackViolations:
    """Every S3 bucket of the stack has a public access block that waits for it."""
    blocked = {d for r in resources if r.type == PUBLIC_ACCESS_BLOCK for d in r.dependencies}
    return [
        (b.urn, f"S3 bucket {b.name}: no public access block; add an aws.s3.BucketPublicAccessBlock blocking all four")
        for b in resources
        if b.type == S3_BUCKET and b.urn not in blocked
    ]


# -- security groups and firewalls only from the planned ranges -------------


def planned_ranges(resources: Sequence[Resource]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The stack's own networks: every VPC and GCP subnet, each made from a planned range."""
    ranges = [r.props.get("cidrBlock") for r in resources if r.type == VPC]
    ranges += [r.props.get("ipCidrRange") for r in resources if r.type == GCP_SUBNET]
    return [ipaddress.ip_network(c) for c in ranges if isinstance(c, str) and c]


def _outside(
    cidrs: Iterable[Any], planned: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network], also: Sequence[str] = ()
) -> list[str]:
    extra = [ipaddress.ip_network(c) for c in also]
    out = []
    for c in cidrs:
        if not isinstance(c, str):
            continue
        net = ipaddress.ip_network(c, strict=False)
        if not any(net.version == q.version and net.subnet_of(q) for q in [*planned, *extra]):  # type: ignore[arg-type]
            out.append(c)
    return out


def network_ranges(resources: Sequence[Resource]) -> StackViolations:
    """Security groups and firewalls admit (and send to) only the planned ranges.

    The planned ranges are derived from the stack itself: its VPCs and GCP
    subnets are made from exactly the CIDRs of `multicloud-kafka:regions`
    (and the regional API's proxy-only subnets), so no configuration can
    drift from them. Google's health-check ranges are allowed on GCP
    firewalls only, for the regional API's load balancer.
    """
    planned = planned_ranges(resources)
    out: StackViolations = []
    for r in resources:
        if r.type == SECURITY_GROUP:
            for direction in ("ingress", "egress"):
                for rule in r.props.get(direction) or []:
                    bad = _outside(rule.get("cidrBlocks") or [], planned)
                    bad += [c for c in rule.get("ipv6CidrBlocks") or [] if isinstance(c, str)]
                    if bad:
                        out.append(
                            (
                                r.urn,
                                f"security group {r.name}: {direction} port {rule.get('fromPort')} "
                                f"from {', '.join(bad)}, outside the planned ranges; admit only the stack's regions",
                            )
                        )
        elif r.type == GCP_FIREWALL:
            bad = _outside(r.props.get("sourceRanges") or [], planned, GCP_HEALTH_CHECK_RANGES)
            if bad:
                out.append(
                    (
                        r.urn,
                        f"firewall {r.name}: admits {', '.join(bad)}, outside the planned ranges; "
                        "admit only the stack's regions",
                    )
                )
    return out


# -- IAM / SCRAM / SASL on every cluster ------------------------------------


def kafka_auth(r: Resource) -> Violations:
    """Every MSK cluster authenticates every client (IAM, SCRAM), never anonymous;
    connectors log in with IAM. Managed Kafka accepts SASL only, by design."""
    p = r.props
    if r.type == MSK_CLUSTER:
        auth = p.get("clientAuthentication") or {}
        sasl = auth.get("sasl") or {}
        out = []
        if auth.get("unauthenticated") is True:
            out.append(
                f"MSK cluster {r.name}: admits unauthenticated clients; set clientAuthentication.unauthenticated false"
            )
        if not (sasl.get("iam") or sasl.get("scram")):
            out.append(f"MSK cluster {r.name}: neither IAM nor SASL/SCRAM is on; turn on clientAuthentication.sasl.iam")
        return out
    if r.type == MSK_CONNECTOR and _get(p, "kafkaClusterClientAuthentication", "authenticationType") != "IAM":
        return [f"MSK Connect connector {r.name}: does not log in with IAM; set kafkaClusterClientAuthentication IAM"]
    return []


# A config provider's variable, `${provider:[path:]key}` (Kafka's ConfigTransformer syntax).
CONFIG_REFERENCE = re.compile(r"\$\{[^}:]+:[^}]*\}")
JAAS_PASSWORD = re.compile(r'password="([^"]*)"')


def logins_by_reference(r: Resource) -> Violations:
    """An MSK Connect connector names every login's password by a config provider reference, never in clear:
    whoever may describe the connector reads its configuration (docs/security.md). Managed Kafka Connect
    cannot yet (its secret paths are not in pulumi-gcp), so its connectors are not checked."""
    config = r.props.get("connectorConfiguration") if r.type == MSK_CONNECTOR else None
    if not isinstance(config, Mapping):
        return []
    out: Violations = []
    for key, value in sorted(config.items()):
        if not (key.endswith("sasl.jaas.config") and isinstance(value, str)):
            continue
        for password in JAAS_PASSWORD.findall(value):
            if not CONFIG_REFERENCE.fullmatch(password):
                out.append(
                    f"MSK Connect connector {r.name}: {key} holds a password in clear; keep the login in Secrets "
                    "Manager and name it ${secretsmanager:<secret>:password} (infra/secretrefs.py)"
                )
    return out


# -- protect on data-holding resources --------------------------------------


def protected(r: Resource, allow_unprotected: bool = False) -> Violations:
    """Kafka clusters and topics carry Pulumi `protect`, unless the
    stack opts out (`allowUnprotected`, for development stacks)."""
    if r.type in DATA_HOLDING and not r.protect and not allow_unprotected:
        return [
            f"{r.type} {r.name}: holds data but is not protected; set multicloud-kafka:protect true "
            "(or run development stacks with policy/unprotected.json)"
        ]
    return []


# -- the clouds' rules: topic API, zones, replicator prerequisites ----------


def topic_api(r: Resource) -> Violations:
    """aws.msk.Topic needs a provisioned cluster on Kafka 3.6.0 or later ("Topic Operations")."""
    if r.type == MSK_SERVERLESS:
        return [
            f"MSK Serverless cluster {r.name}: MSK's topic API, through which this project creates topics, "
            "is not available on serverless clusters; use a provisioned cluster"
        ]
    if r.type == MSK_CLUSTER:
        version = aws_rules.kafka_version(str(r.props.get("kafkaVersion", "")))
        if version is not None and version < aws_rules.TOPIC_API_MIN_KAFKA:
            return [f"MSK cluster {r.name}: Kafka {r.props.get('kafkaVersion')} has no topic API (3.6.0 or later)"]
    return []


def zones(r: Resource) -> Violations:
    """Subnets by zone ID, never in a zone MSK refuses; MSK spread over the
    region's AZ count (two in us-west-1)."""
    p = r.props
    if r.type == SUBNET:
        zone = p.get("availabilityZoneId")
        if not zone:
            if p.get("availabilityZone"):
                return [
                    f"subnet {r.name}: placed by zone name {p['availabilityZone']}, which maps to a different "
                    "zone in every account; place it by availabilityZoneId"
                ]
            return []
        if not _known(zone):
            return []
        if zone in aws_rules.MSK_UNSUPPORTED_ZONE_IDS:
            return [f"subnet {r.name}: zone {zone} is refused by MSK for broker subnets; pick another zone ID"]
    elif r.type == MSK_CLUSTER and r.region:
        subnets = _get(p, "brokerNodeGroupInfo", "clientSubnets")
        if isinstance(subnets, list) and len(subnets) != aws_rules.az_count(r.region):
            return [
                f"MSK cluster {r.name}: {len(subnets)} client subnets; MSK in {r.region} takes "
                f"{aws_rules.az_count(r.region)}, one per AZ"
            ]
    return []


def _by_urn(resources: Sequence[Resource]) -> dict[str, Resource]:
    return {r.urn: r for r in resources}


def _policy_grants(policy: Any) -> set[str]:
    try:
        doc = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return set()
    actions: set[str] = set()
    for s in (doc or {}).get("Statement", []):
        if s.get("Effect") == "Allow" and "kafka.amazonaws.com" in json.dumps(s.get("Principal", "")):
            a = s.get("Action", [])
            actions.update([a] if isinstance(a, str) else a)
    return actions


def replicator_prerequisites(resources: Sequence[Resource]) -> StackViolations:
    """Each MSK Replicator: every cluster it joins runs no t3.small and has
    enough brokers; a source in another region has multi-VPC connectivity for
    IAM and a cluster policy for MSK, which the replicator waits for; its role
    may use the replicator's internal topics."""
    urns = _by_urn(resources)
    out: StackViolations = []
    for rep in (r for r in resources if r.type == MSK_REPLICATOR):
        clusters = [urns[d] for d in rep.dependencies if d in urns and urns[d].type == MSK_CLUSTER]
        for c in clusters:
            info = c.props.get("brokerNodeGroupInfo") or {}
            if info.get("instanceType") == aws_rules.T3_SMALL:
                out.append(
                    (
                        rep.urn,
                        f"replicator {rep.name}: cluster {c.name} runs kafka.t3.small, which MSK Replicator "
                        "does not support; use kafka.m5.large or larger",
                    )
                )
            brokers = c.props.get("numberOfBrokerNodes")
            least = aws_rules.min_replicator_brokers(c.region)
            if isinstance(brokers, int) and brokers < least:
                out.append(
                    (
                        rep.urn,
                        f"replicator {rep.name}: cluster {c.name} has {brokers} brokers; MSK Replicator "
                        f"needs at least {least}",
                    )
                )
            if c.region == rep.region:
                continue
            iam = _get(info, "connectivityInfo", "vpcConnectivity", "clientAuthentication", "sasl", "iam")
            if iam is not True:
                out.append(
                    (
                        rep.urn,
                        f"replicator {rep.name}: source {c.name} in {c.region} lacks multi-VPC private "
                        "connectivity for IAM (connectivityInfo.vpcConnectivity...sasl.iam)",
                    )
                )
            policies = [q for q in resources if q.type == MSK_CLUSTER_POLICY and c.urn in q.dependencies]
            granted = [
                q
                for q in policies
                if _policy_grants(q.props.get("policy")) >= REPLICATOR_SOURCE_ACTIONS
                or not _known(q.props.get("policy"))
            ]
            if not granted:
                out.append(
                    (
                        rep.urn,
                        f"replicator {rep.name}: source {c.name} has no cluster policy letting "
                        f"kafka.amazonaws.com {', '.join(sorted(REPLICATOR_SOURCE_ACTIONS))}",
                    )
                )
            elif not any(q.urn in rep.dependencies for q in granted):
                out.append(
                    (
                        rep.urn,
                        f"replicator {rep.name}: does not wait for the cluster policy of {c.name}; "
                        "add it to depends_on",
                    )
                )
        out.extend(_replicator_role(rep, resources))
    return out


def _replicator_role(rep: Resource, resources: Sequence[Resource]) -> StackViolations:
    role = rep.props.get("serviceExecutionRoleArn")
    policies = [q for q in resources if q.type == ROLE_POLICY and q.urn in rep.dependencies]
    texts = [q.props.get("policy") for q in policies]
    if not _known(role) or any(not _known(t) for t in texts):
        return []
    resources_named = " ".join(str(t) for t in texts)
    missing = [t for t in REPLICATOR_INTERNAL_TOPICS if f'/{t}"' not in resources_named]
    if missing:
        return [
            (
                rep.urn,
                f"replicator {rep.name}: its role may not use the internal topics {', '.join(missing)} "
                "on both clusters (MSK Replicator topic replication permissions)",
            )
        ]
    return []


def _waits_for(start: Resource, urns: Mapping[str, Resource], types: frozenset[str]) -> bool:
    seen: set[str] = set()
    stack = list(start.dependencies)
    while stack:
        u = stack.pop()
        if u in seen or u not in urns:
            continue
        seen.add(u)
        if urns[u].type in types:
            return True
        stack.extend(urns[u].dependencies)
    return False


def connector_dependencies(resources: Sequence[Resource]) -> StackViolations:
    """A MirrorMaker 2 connector whose flow crosses clouds waits for the VPN it reads over.

    A connector is cross-cloud when its source cluster is in the other
    cloud: an MSK Connect connector whose dependencies include a Managed
    Kafka cluster, or a Managed Kafka Connect connector whose dependencies
    include an MSK cluster.
    """
    urns = _by_urn(resources)
    other = {MSK_CONNECTOR: frozenset({GK_CLUSTER}), GK_CONNECTOR: frozenset({MSK_CLUSTER})}
    out: StackViolations = []
    for c in (r for r in resources if r.type in other):
        if _waits_for(c, urns, other[c.type]) and not _waits_for(c, urns, VPN_TYPES):
            out.append(
                (
                    c.urn,
                    f"connector {c.name}: reads a cluster in the other cloud but does not wait for the "
                    "HA VPN tunnels it reads over; make it depend on them",
                )
            )
    return out


def gcp_apis(resources: Sequence[Resource]) -> StackViolations:
    """Every GCP resource's provider waits for the enabled Google APIs (gcp.projects.Service).

    A resource whose provider the engine does not list is not judged.
    """
    urns = _by_urn(resources)
    services = {r.urn for r in resources if r.type == GCP_SERVICE}
    if not any(r.type.startswith("gcp:") for r in resources if r.type != GCP_SERVICE):
        return []
    out: StackViolations = []
    for r in resources:
        if not r.type.startswith("gcp:") or r.type == GCP_SERVICE:
            continue
        provider = urns.get(r.provider_urn)
        if provider is not None and not services & set(provider.dependencies):
            out.append(
                (
                    r.urn,
                    f"{r.type} {r.name}: its provider does not wait for the Google APIs "
                    "(gcp.projects.Service); on a fresh project its first call would fail",
                )
            )
    return out


# -- flow logs, default security groups, key policies, encrypted logs -------


def flow_logs(resources: Sequence[Resource]) -> StackViolations:
    """Every VPC has a flow log of all its traffic; every GCP subnet logs its
    flows, but proxy-only subnets, which GCP refuses flow logs."""
    out: StackViolations = []
    logs = [r for r in resources if r.type == FLOW_LOG]
    for vpc in (r for r in resources if r.type == VPC):
        mine = [f for f in logs if vpc.urn in f.dependencies]
        if not mine:
            out.append((vpc.urn, f"VPC {vpc.name}: no flow log; add an aws.ec2.FlowLog of its traffic"))
        elif not any(
            f.props.get("trafficType") in ("ALL", None) or not _known(f.props.get("trafficType")) for f in mine
        ):
            out.append((vpc.urn, f"VPC {vpc.name}: its flow logs miss some traffic; set trafficType ALL"))
    for subnet in (r for r in resources if r.type == GCP_SUBNET):
        if subnet.props.get("purpose") in GCP_NO_FLOW_LOG_PURPOSES:
            continue
        config = subnet.props.get("logConfig")
        if not isinstance(config, Mapping) or config.get("flowSampling") == 0:
            out.append(
                (
                    subnet.urn,
                    f"subnetwork {subnet.name}: no VPC flow logs; set logConfig "
                    "(flowSampling 1.0, aggregationInterval INTERVAL_5_SEC)",
                )
            )
    return out


def default_security_groups(resources: Sequence[Resource]) -> StackViolations:
    """Every VPC's default security group is managed (aws.ec2.DefaultSecurityGroup) and holds no rules."""
    out: StackViolations = []
    defaults = [r for r in resources if r.type == DEFAULT_SECURITY_GROUP]
    for vpc in (r for r in resources if r.type == VPC):
        if not any(vpc.urn in d.dependencies for d in defaults):
            out.append(
                (
                    vpc.urn,
                    f"VPC {vpc.name}: its default security group is not managed; add an "
                    "aws.ec2.DefaultSecurityGroup with no ingress and no egress",
                )
            )
    for d in defaults:
        rules_ = [direction for direction in ("ingress", "egress") if d.props.get(direction)]
        if rules_:
            out.append(
                (
                    d.urn,
                    f"default security group {d.name}: has {' and '.join(rules_)} rules; remove them "
                    "so nothing placed in it by accident can talk",
                )
            )
    return out


def api_routes_authorized(resources: Sequence[Resource]) -> StackViolations:
    """Every HTTP API route is authorized at the gateway (JWT, IAM or a custom
    authorizer), but the health check's one GET route, unless the API states
    (tag multicloud-kafka:authorization = backend) that its backend
    authenticates every request."""
    apis = {r.urn: r for r in resources if r.type == HTTP_API}
    out: StackViolations = []
    open_routes: dict[str, list[Resource]] = {}
    for route in (r for r in resources if r.type == API_ROUTE):
        kind = route.props.get("authorizationType", "NONE")
        if not _known(kind) or kind != "NONE":
            continue
        api = next((apis[d] for d in route.dependencies if d in apis), None)
        if api is None:
            continue
        if (api.props.get("tags") or {}).get(API_AUTHORIZATION_TAG) == "backend":
            continue
        open_routes.setdefault(api.urn, []).append(route)
    for _api_urn, routes in open_routes.items():
        health = [r for r in routes if str(r.props.get("routeKey", "")).startswith("GET /")]
        for route in routes:
            if health and route is health[0]:
                continue
            out.append(
                (
                    route.urn,
                    f"API route {route.name} ({route.props.get('routeKey')}): no authorization at the "
                    f"gateway; set multicloud-kafka:api.authorization (jwt or iam), or type backend "
                    "if the backend authenticates every request",
                )
            )
    return out


def security_groups_used(resources: Sequence[Resource]) -> StackViolations:
    """Every security group is used: some resource of the stack (a cluster, a
    connector, a VPC link, a resolver endpoint) depends on it."""
    used = {d for r in resources for d in r.dependencies}
    return [
        (g.urn, f"security group {g.name}: no resource uses it; do not create it")
        for g in resources
        if g.type == SECURITY_GROUP and g.urn not in used
    ]


def _statements(policy: Any) -> list[Mapping[str, Any]] | None:
    try:
        doc = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return None
    if not isinstance(doc, Mapping):
        return None
    found = doc.get("Statement", [])
    return [found] if isinstance(found, Mapping) else [s for s in found if isinstance(s, Mapping)]


def _uses(statement: Mapping[str, Any]) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(str(a).lower().startswith(KMS_USE_ACTIONS) for a in actions)


def key_policies(r: Resource) -> Violations:
    """Every customer KMS key has an explicit policy: the account administers it,
    and only named services (by service principal or kms:ViaService) may use it."""
    if r.type != KMS_KEY:
        return []
    policy = r.props.get("policy")
    if not policy:
        return [
            f"KMS key {r.name}: no key policy, so the default lets any IAM principal of the account use it; "
            "set policy: the account administers, only the services that use the key may use it"
        ]
    if not _known(policy):
        return []
    statements = _statements(policy)
    if statements is None:
        return [f"KMS key {r.name}: its policy is not a JSON policy document"]
    out: Violations = []
    users = 0
    for s in (s for s in statements if s.get("Effect") == "Allow" and _uses(s)):
        principal = s.get("Principal")
        service = isinstance(principal, Mapping) and "Service" in principal
        via = "kms:ViaService" in json.dumps(s.get("Condition", {}))
        if principal == "*" or (isinstance(principal, Mapping) and principal.get("AWS") == "*"):
            out.append(f"KMS key {r.name}: statement {s.get('Sid', '')!r} lets anyone use the key")
        elif not (service or via):
            out.append(
                f"KMS key {r.name}: statement {s.get('Sid', '')!r} lets {json.dumps(principal)} use the key "
                "directly; name the services that use it (service principal or kms:ViaService)"
            )
        else:
            users += 1
    if not users and not out:
        out.append(f"KMS key {r.name}: its policy names no service that uses the key")
    return out


def log_groups(r: Resource) -> Violations:
    """Every CloudWatch log group is encrypted with a customer KMS key and keeps
    events for one of CloudWatch's retention periods."""
    if r.type != LOG_GROUP:
        return []
    out: Violations = []
    if not r.props.get("kmsKeyId"):
        out.append(f"log group {r.name}: encrypted with CloudWatch's own key; set kmsKeyId to a customer KMS key")
    days = r.props.get("retentionInDays")
    if isinstance(days, int) and days not in aws_rules.LOG_RETENTION_DAYS:
        out.append(
            f"log group {r.name}: retentionInDays {days} is not a period CloudWatch accepts; "
            "set multicloud-kafka:logRetentionDays"
        )
    return out


def _sse(config: Resource) -> tuple[str, bool]:
    """(algorithm, whether a customer key is named) of a bucket encryption configuration."""
    rule = (config.props.get("rules") or [{}])[0]
    default = rule.get("applyServerSideEncryptionByDefault") or {}
    return str(default.get("sseAlgorithm", "")), bool(default.get("kmsMasterKeyId"))


def buckets_hardened(resources: Sequence[Resource]) -> StackViolations:
    """Every S3 bucket holding data (not an access-log bucket) is versioned,
    encrypted with a customer KMS key and access-logged; every access-log
    bucket is encrypted (SSE-S3, the only default encryption log delivery accepts)."""

    def by_bucket(type_: str) -> dict[Any, list[Resource]]:
        found: dict[Any, list[Resource]] = {}
        for r in resources:
            if r.type == type_:
                found.setdefault(r.props.get("bucket"), []).append(r)
        return found

    versioning, encryption_ = by_bucket(BUCKET_VERSIONING), by_bucket(BUCKET_ENCRYPTION)
    logging = by_bucket(BUCKET_LOGGING)
    targets = {r.props.get("targetBucket") for rs in logging.values() for r in rs}
    out: StackViolations = []
    for b in (r for r in resources if r.type == S3_BUCKET):
        name = b.props.get("bucket")
        if not _known(name):
            continue
        sse = [_sse(c) for c in encryption_.get(name, [])]
        if name in targets:
            if not sse:
                out.append(
                    (b.urn, f"S3 bucket {b.name}: access-log bucket without default encryption; set SSE-S3 (AES256)")
                )
            continue
        if not any(_get(v.props, "versioningConfiguration", "status") == "Enabled" for v in versioning.get(name, [])):
            out.append(
                (b.urn, f"S3 bucket {b.name}: not versioned; add an aws.s3.BucketVersioning with status Enabled")
            )
        if not any(algorithm == "aws:kms" and keyed for algorithm, keyed in sse):
            out.append(
                (
                    b.urn,
                    f"S3 bucket {b.name}: not encrypted with a customer key; add an "
                    "aws.s3.BucketServerSideEncryptionConfiguration with aws:kms and kmsMasterKeyId",
                )
            )
        if name not in logging:
            out.append((b.urn, f"S3 bucket {b.name}: access not logged; add an aws.s3.BucketLogging to a log bucket"))
    return out


ResourceRule = Callable[[Resource], Violations]
StackRule = Callable[[Sequence[Resource]], StackViolations]
