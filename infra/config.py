"""The stack's config contract, validated once at the edge.

`validate(raw, stack)` takes the stack's config as a flat mapping of full keys
(`multicloud-kafka:regions`, `gcp:project`, ...) to values, exactly as a stack
file or `pulumi.Config` holds them, and returns a frozen `Config` or raises one
`ConfigError` that lists every problem found. Nothing here imports Pulumi.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from infra import alerts, aws_rules, geo, kafka_admin, naming
from infra.alerts import AlertSettings
from infra.api import validate as api_validate
from infra.api.settings import ApiSettings
from infra.geo import Region
from infra.kafka_admin import KafkaAdmin
from infra.kinds import ActiveHub, Architecture, ScramMechanism
from infra.network import PRIVATE_RANGES
from infra.validation import NS, Checker, ConfigError, k

# A region's CIDR is split in four: three AZ subnets and one reserved for
# connectivity (VPN, API). /22 leaves /24 subnets, room for brokers and clients.
MIN_REGION_PREFIX = 22
# AWS accepts VPC CIDRs from /16 to /28.
MAX_AWS_VPC_PREFIX = 16
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
CLEANUP_POLICIES = ("delete", "compact", "compact,delete")
# A settings dataclass that `_merge` fills from its parsed keys.
_S = TypeVar("_S", "TopicSettings", "MskSettings", "ManagedKafkaSettings", "VpnSettings")
MSK_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
# A self-managed region's name (`self-managed/<name>`): a DNS label, since it
# becomes part of resource names, logins and (upper-cased) topic names.
SELF_MANAGED_NAME = re.compile(r"^[a-z][a-z0-9-]{0,28}[a-z0-9]$")
BROKER_HOST = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# SCRAM user names Kafka stores as they are; kept to characters no client config needs to escape.
SCRAM_USER = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
# A project config key (`multicloud-kafka:<name>`), as `pulumi config set` accepts it without --path.
CONFIG_KEY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
SELF_MANAGED_FIELDS = ("cidr", "bootstrap", "saslMechanism", "adminUser", "adminPasswordKey", "tls", "caCert")
PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")
MSK_INSTANCE = re.compile(r"^kafka\.(t3\.small|m5\.({})|m7g\.({}))$".format("|".join(MSK_SIZES), "|".join(MSK_SIZES)))


@dataclass(frozen=True)
class TopicSettings:
    """Per-topic settings; each default comes from `topicDefaults`."""

    partitions: int = 6
    replication_factor: int = 3
    retention_ms: int = 7 * 24 * 3600 * 1000
    min_insync_replicas: int = 2
    cleanup_policy: str = "delete"

    def kafka_config(self) -> dict[str, str]:
        """The topic-level Kafka configuration these settings stand for."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "min.insync.replicas": str(self.min_insync_replicas),
            "retention.ms": str(self.retention_ms),
        }


@dataclass(frozen=True)
class SelfManagedCluster:
    """How the stack reaches the Kafka cluster of a self-managed region (its entry under `regions`).

    The stack creates no cluster there: it logs in to the brokers as this
    administrator with pulumi-kafka and makes the planned topics, SCRAM
    logins and ACLs (docs/config.md, Self-managed Kafka).
    """

    # host:port of the brokers' SASL listener, in the order given.
    bootstrap: tuple[str, ...]
    # The administrator's login; it must be a super user or hold ALTER on the cluster.
    admin_user: str
    # The project config key (`multicloud-kafka:<key>`) holding the administrator's
    # password, which must be a Pulumi secret (`pulumi config set --secret`).
    admin_password_key: str
    # The mechanism of the administrator's login and of every login the stack makes there.
    mechanism: ScramMechanism = ScramMechanism.SHA_512
    # TLS on the SASL listener (SASL_SSL). Default: true; false only for a
    # cluster on a trusted network (SASL_PLAINTEXT), such as a test broker.
    tls: bool = True
    # PEM of the CA(s) that signed the brokers' certificates, when not one
    # the clients' system trust store holds (a private CA). Default: none.
    ca_cert: str | None = None


@dataclass(frozen=True)
class Event:
    name: str
    topic: TopicSettings


@dataclass(frozen=True)
class MskSettings:
    """Sizing of every MSK cluster of the stack (`multicloud-kafka:msk`)."""

    kafka_version: str = "3.9.x"
    instance_type: str = "kafka.m7g.large"
    # Brokers are spread evenly, so the broker count is a multiple of the AZs.
    brokers_per_az: int = 1
    volume_gib: int = 1000
    # Refused when true: topics go through MSK's topic API, which serverless
    # clusters lack (see infra/aws_rules.py).
    serverless: bool = False


@dataclass(frozen=True)
class ManagedKafkaSettings:
    """Sizing of every GCP Managed Kafka cluster (`multicloud-kafka:managedKafka`)."""

    vcpu_count: int = 3
    memory_gib: int = 12


@dataclass(frozen=True)
class VpnSettings:
    """BGP of the AWS <-> GCP HA VPN links (`multicloud-kafka:vpn`)."""

    # The AWS side (virtual private gateway) and the GCP side (Cloud Router)
    # of every link; private ASNs, and different, since the peering is eBGP.
    aws_asn: int = 64512
    gcp_asn: int = 65001


@dataclass(frozen=True)
class Config:
    stack: str
    architecture: Architecture
    hub: Region
    regions: Mapping[str, Region]
    events: Mapping[str, Event]
    name_prefix: str
    protect: bool
    msk: MskSettings
    managed_kafka: ManagedKafkaSettings
    gcp_project: str | None
    vpn: VpnSettings = VpnSettings()
    # The regional request/response API (`multicloud-kafka:api`); None: no API.
    api: ApiSettings | None = None
    # `multicloud-kafka:requireIsolation`: every region's messages readable by
    # that region (and the flow mirroring them to it) only. Default: false.
    require_isolation: bool = False
    # `multicloud-kafka:alerts`: who is notified, and the alarm thresholds.
    alerts: AlertSettings = AlertSettings()
    # `multicloud-kafka:logRetentionDays`: how long every CloudWatch log group
    # of the stack (broker, Connect worker, API access and VPC flow logs)
    # keeps its events; one of CloudWatch's periods, 0 for never.
    log_retention_days: int = aws_rules.DEFAULT_LOG_RETENTION_DAYS
    # `multicloud-kafka:scramRotation`: the generation of every SCRAM password
    # of the stack's MSK clusters; raising it makes new ones (docs/security.md).
    scram_rotation: int = 0
    # `multicloud-kafka:kafkaAdmin`: where `pulumi up` runs so pulumi-kafka reaches the brokers whose
    # ACLs it manages; None: not said (refused where the plan needs it, infra/kafka_admin.py).
    kafka_admin: KafkaAdmin | None = None
    # `multicloud-kafka:standbyHub`: the region of the standby hub, which holds
    # every hub topic under the same name; None: the stack has none.
    standby: Region | None = None
    # `multicloud-kafka:activeHub`: which of hub and standby takes the traffic.
    active_hub: ActiveHub = ActiveHub.HUB
    # `multicloud-kafka:failoverAfterSeconds`: how long the active hub may be
    # unreachable before the routing client turns to the other one.
    failover_after_seconds: float = 10.0
    # Region key -> how the stack reaches the cluster of each self-managed region.
    self_managed: Mapping[str, SelfManagedCluster] = field(default_factory=dict)

    @property
    def active(self) -> Region:
        """The region of the hub that takes the traffic: the hub, or the standby once activeHub says so."""
        if self.active_hub == ActiveHub.STANDBY and self.standby is not None:
            return self.standby
        return self.hub


def _topic_spec(c: Checker) -> dict[str, tuple[str, Callable[[str, Any], Any]]]:
    def cleanup(key: str, v: Any) -> str | None:
        if not isinstance(v, str) or v not in CLEANUP_POLICIES:
            c.add(key, v, f"must be one of {', '.join(CLEANUP_POLICIES)}")
            return None
        return v

    def retention(key: str, v: Any) -> int | None:
        r = c.integer(key, v, -1)
        if r == 0:
            c.add(key, v, "must be a positive number of milliseconds, or -1 to keep forever")
            return None
        return r

    return {
        "partitions": ("partitions", lambda key, v: c.integer(key, v, 1, 10000)),
        "replicationFactor": ("replication_factor", lambda key, v: c.integer(key, v, 1, 5)),
        "retentionMs": ("retention_ms", retention),
        "minInsyncReplicas": ("min_insync_replicas", lambda key, v: c.integer(key, v, 1, 5)),
        "cleanupPolicy": ("cleanup_policy", cleanup),
    }


def _check_durability(c: Checker, key: str, t: TopicSettings) -> None:
    if t.min_insync_replicas > t.replication_factor:
        c.add(
            f"{key}.minInsyncReplicas",
            t.min_insync_replicas,
            f"is more than replicationFactor ({t.replication_factor}): no write could succeed; lower it",
        )
    elif t.replication_factor > 1 and t.min_insync_replicas == t.replication_factor:
        c.add(
            f"{key}.minInsyncReplicas",
            t.min_insync_replicas,
            f"equals replicationFactor ({t.replication_factor}): one broker down would stop every "
            f"write; set it to {t.replication_factor - 1}",
        )


def _parse_region(c: Checker, key: str, value: Any) -> Region | None:
    rkey = f"{k('regions')}.{key}"
    cloud, sep, name = key.partition("/")
    ok = True
    if not sep or not name:
        c.add(rkey, key, "region keys are '<cloud>/<region>', for example 'aws/us-east-1' or 'gcp/europe-west1'")
        return None
    if cloud not in geo.KINDS:
        c.add(
            rkey,
            key,
            f"unknown cloud '{cloud}': use one of {', '.join(geo.CLOUDS)}, or {geo.SELF_MANAGED} for a Kafka "
            "cluster that already runs elsewhere",
        )
        ok = False
    elif cloud == geo.SELF_MANAGED:
        if not SELF_MANAGED_NAME.match(name):
            c.add(
                rkey,
                key,
                f"'{name}' cannot name a {geo.SELF_MANAGED} region: use 2 to 30 lower-case letters, digits and '-', "
                "starting with a letter, for example self-managed/paris-dc1",
            )
            ok = False
    elif name not in geo.REGIONS[cloud]:
        near = sorted(r for r in geo.REGIONS[cloud] if r.split("-")[0] == name.split("-")[0])
        hint = f" (known {cloud} regions like it: {', '.join(near)})" if near else ""
        c.add(rkey, key, f"'{name}' is not a region of {cloud}{hint}")
        ok = False
    fields = c.mapping(rkey, value, "region settings, for example {cidr: 10.10.0.0/16}")
    if fields is None:
        return None
    known = SELF_MANAGED_FIELDS if cloud == geo.SELF_MANAGED else ("cidr",)
    for extra in sorted(set(fields) - set(known), key=str):
        c.add(f"{rkey}.{extra}", fields[extra], f"is not a setting of a {cloud} region; known: {', '.join(known)}")
    if "cidr" not in fields:
        c.add(f"{rkey}.cidr", None, "is required: give the region's private network range, for example 10.10.0.0/16")
        return None
    cidr = _parse_cidr(c, f"{rkey}.cidr", fields["cidr"], cloud)
    if cidr is None or not ok:
        return None
    return Region(cloud, name, cidr)


def _parse_cidr(c: Checker, key: str, value: Any, cloud: str) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        c.add(key, value, "is not an IPv4 CIDR block; write it like 10.10.0.0/16")
        return None
    if not isinstance(net, ipaddress.IPv4Network):
        c.add(key, value, "must be an IPv4 CIDR block; write it like 10.10.0.0/16")
        return None
    if str(net) != str(value):
        c.add(key, value, f"has host bits set; did you mean {net}?")
        return None
    if not any(net.subnet_of(p) for p in PRIVATE_RANGES):
        c.add(
            key, value, "is not a private (RFC 1918) range: use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
        )
        return None
    if cloud == geo.SELF_MANAGED:
        # No subnet is carved from it: it is only where the region's brokers and services are.
        return net
    if net.prefixlen > MIN_REGION_PREFIX:
        c.add(key, value, f"is too small: a region needs at least a /{MIN_REGION_PREFIX} to carve its subnets from")
        return None
    if cloud == geo.AWS and net.prefixlen < MAX_AWS_VPC_PREFIX:
        c.add(key, value, f"is larger than an AWS VPC may be (/{MAX_AWS_VPC_PREFIX} at most): use a /16 or smaller")
        return None
    return net


def is_secure(value: Any) -> bool:
    """Whether a stack file holds `value` encrypted: `{secure: v1:...}`, as `pulumi config set --secret` writes it."""
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _parse_self_managed(
    c: Checker, key: str, value: Any, raw: Mapping[str, Any], is_secret: Callable[[str], bool]
) -> SelfManagedCluster | None:
    """The connection settings of a self-managed region's entry; None (problems in `c`) if any is wrong."""
    rkey = f"{k('regions')}.{key}"
    fields = value if isinstance(value, Mapping) else {}
    ok = True
    bootstrap = _parse_bootstrap(c, f"{rkey}.bootstrap", fields.get("bootstrap"))
    mechanism = fields.get("saslMechanism", ScramMechanism.SHA_512.value)
    if mechanism not in tuple(ScramMechanism):
        c.add(
            f"{rkey}.saslMechanism",
            mechanism,
            f"must be one of {', '.join(ScramMechanism)}: the mechanism of the brokers' SASL listener "
            f"(default {ScramMechanism.SHA_512})",
        )
        ok = False
    user = fields.get("adminUser")
    if not isinstance(user, str) or not SCRAM_USER.match(user):
        c.add(
            f"{rkey}.adminUser",
            user,
            "is required: the SCRAM login, a super user of the cluster or one allowed ALTER on it, that "
            "pulumi-kafka makes the topics, logins and ACLs as (letters, digits and . _ @ -, up to 64)",
        )
        ok = False
    password_key = _parse_password_key(c, f"{rkey}.adminPasswordKey", fields.get("adminPasswordKey"), raw, is_secret)
    tls = c.boolean(f"{rkey}.tls", fields.get("tls", True))
    ca_cert = fields.get("caCert")
    if ca_cert is not None and (not isinstance(ca_cert, str) or not PEM_CERTIFICATE.search(ca_cert)):
        c.add(
            f"{rkey}.caCert",
            ca_cert if not isinstance(ca_cert, str) else f"{ca_cert[:40]}...",
            "must be the PEM of the CA that signed the brokers' certificates (-----BEGIN CERTIFICATE----- ...), "
            "or left out when the system trust store holds it",
        )
        ok = False
    elif ca_cert is not None and tls is False:
        c.add(f"{rkey}.caCert", "(PEM)", "is set but tls is false: remove it, or set tls to true")
        ok = False
    if bootstrap is None or password_key is None or tls is None or not ok:
        return None
    return SelfManagedCluster(
        bootstrap, str(user), password_key, ScramMechanism(mechanism), tls, ca_cert.strip() if ca_cert else None
    )


def _parse_bootstrap(c: Checker, key: str, value: Any) -> tuple[str, ...] | None:
    """host:port of each broker, as a list or a comma-separated string."""
    example = "[kafka-1.dc1.example.com:9096, kafka-2.dc1.example.com:9096]"
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        c.add(key, value, f"is required: the host:port of the brokers' SASL listener, for example {example}")
        return None
    out: list[str] = []
    for item in items:
        host, sep, port = str(item).strip().rpartition(":")
        if not sep or not BROKER_HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
            c.add(key, value, f"{str(item).strip()!r} is not host:port (a DNS name or IPv4 address, then a port)")
            return None
        address = f"{host.lower()}:{int(port)}"
        if address in out:
            c.add(key, value, f"names {address} twice: list each broker once")
            return None
        out.append(address)
    return tuple(out)


def _parse_password_key(
    c: Checker, key: str, value: Any, raw: Mapping[str, Any], is_secret: Callable[[str], bool]
) -> str | None:
    """The name of the project config key holding the administrator's password, which must be a secret."""
    if not isinstance(value, str) or not CONFIG_KEY_NAME.match(value) or value in KEYS:
        c.add(
            key,
            value,
            "is required: the name of the config key holding the administrator's password, for example "
            "dc1KafkaAdminPassword, set with `pulumi config set --secret dc1KafkaAdminPassword <password>` "
            "(not one of this project's settings)",
        )
        return None
    full = k(value)
    if full not in raw:
        c.add(
            full,
            None,
            f"is not set, and {key} names it: run `pulumi config set --secret {value} <password>` "
            "(the administrator's password, kept encrypted in the stack file)",
        )
        return None
    if not (is_secure(raw[full]) or is_secret(full)):
        c.add(
            full,
            "(clear text)",
            f"holds the password of a Kafka administrator in clear text: remove it from the stack file and run "
            f"`pulumi config set --secret {value} <password>`, then change that password on the cluster",
        )
        return None
    return value


def _check_self_managed_logins(c: Checker, regions: Mapping[str, Region], sm: Mapping[str, SelfManagedCluster]) -> None:
    """An administrator named like a login the stack makes would have its password replaced by the stack's."""
    made = {naming.region_slug(r) for r in regions.values()}
    for key, cluster in sm.items():
        if cluster.admin_user in made or cluster.admin_user.startswith("mirror-"):
            c.add(
                f"{k('regions')}.{key}.adminUser",
                cluster.admin_user,
                "is a name the stack gives the logins it makes (a region's slug, or mirror-...), so the stack "
                "would replace this administrator's password: use another login, such as pulumi-admin",
            )


def _refuse_self_managed_hub(c: Checker, key: str, value: Any) -> None:
    c.add(
        key,
        value,
        f"is a {geo.SELF_MANAGED} region, which cannot be a hub (docs/adr/0009-self-managed-kafka-is-never-a-hub.md): "
        "a hub is a cluster the stack creates, sizes, links, monitors and replicates with the clouds' own "
        "services; choose an aws/ or gcp/ region",
    )


def _check_overlaps(c: Checker, regions: Mapping[str, Region]) -> None:
    items = sorted(regions.items())
    for i, (ka, a) in enumerate(items):
        for kb, b in items[i + 1 :]:
            if a.cidr.overlaps(b.cidr):
                same = "is the same range as" if a.cidr == b.cidr else "overlaps"
                c.add(
                    f"{k('regions')}.{kb}.cidr",
                    str(b.cidr),
                    f"{same} {ka} ({a.cidr}): every region needs its own range so traffic can be routed",
                )


def _parse_events(c: Checker, value: Any, defaults: TopicSettings) -> dict[str, Event]:
    events: dict[str, Event] = {}
    m = c.mapping(k("events"), value, "event names to topic settings, for example {create_account: {partitions: 12}}")
    if m is None:
        return events
    if not m:
        c.add(k("events"), value, "needs at least one event, for example {create_account: {}}")
    spec = _topic_spec(c)
    for name, settings in m.items():
        ekey = f"{k('events')}.{name}"
        if not isinstance(name, str) or not EVENT_NAME.match(name):
            c.add(
                ekey,
                name,
                "event names are lower_snake_case (a letter, then letters, digits or '_'), "
                "because they become upper-case Kafka topic names",
            )
            continue
        parsed = c.fields(ekey, settings, spec, "a topic")
        if parsed is None:
            continue
        topic = _merge(defaults, parsed)
        _check_durability(c, ekey, topic)
        events[name] = Event(name, topic)
    return events


def _merge(defaults: _S, parsed: Mapping[str, Any]) -> _S:
    return dataclasses.replace(defaults, **parsed)


def _parse_msk(c: Checker, value: Any) -> MskSettings:
    def instance(key: str, v: Any) -> str | None:
        if not isinstance(v, str) or not MSK_INSTANCE.match(v):
            c.add(key, v, "must be an MSK broker type such as kafka.m7g.large, kafka.m5.xlarge or kafka.t3.small")
            return None
        return v

    def version(key: str, v: Any) -> str | None:
        if not isinstance(v, str) or not re.fullmatch(r"\d+\.\d+\.(\d+|x)(\.kraft)?", v):
            c.add(key, v, "must be an MSK Kafka version such as 3.9.x or 3.8.x.kraft")
            return None
        return v

    spec = {
        "kafkaVersion": ("kafka_version", version),
        "instanceType": ("instance_type", instance),
        "brokersPerAz": ("brokers_per_az", lambda key, v: c.integer(key, v, 1, 10)),
        "volumeGib": ("volume_gib", lambda key, v: c.integer(key, v, 1, 16384)),
        "serverless": ("serverless", c.boolean),
    }
    parsed = c.fields(k("msk"), value, spec, "MSK sizing")
    msk = _merge(MskSettings(), parsed or {})
    _check_topic_api(c, msk)
    return msk


def _check_topic_api(c: Checker, msk: MskSettings) -> None:
    """Topics are aws.msk.Topic: MSK's topic API, provisioned clusters from Kafka 3.6.0 on."""
    if msk.serverless:
        c.add(
            f"{k('msk')}.serverless",
            True,
            "MSK Serverless has no topic API, and this project creates every topic through it "
            "(aws.msk.Topic, with no broker to reach): remove the key or set it to false",
        )
    version = aws_rules.kafka_version(msk.kafka_version)
    if version is not None and version < aws_rules.TOPIC_API_MIN_KAFKA:
        least = ".".join(map(str, aws_rules.TOPIC_API_MIN_KAFKA))
        c.add(
            f"{k('msk')}.kafkaVersion",
            msk.kafka_version,
            f"MSK's topic API, which creates this project's topics, needs Kafka {least} or later: "
            f"use 3.6.0 or later, such as {MskSettings().kafka_version}",
        )


def _parse_managed_kafka(c: Checker, value: Any) -> ManagedKafkaSettings:
    spec = {
        "vcpuCount": ("vcpu_count", lambda key, v: c.integer(key, v, 3, 1000)),
        "memoryGib": ("memory_gib", lambda key, v: c.integer(key, v, 3, 8000)),
    }
    parsed = c.fields(k("managedKafka"), value, spec, "Managed Kafka sizing")
    mk = _merge(ManagedKafkaSettings(), parsed or {})
    per_vcpu = mk.memory_gib / mk.vcpu_count
    if not 1 <= per_vcpu <= 8:
        c.add(
            f"{k('managedKafka')}.memoryGib",
            mk.memory_gib,
            f"GCP allows 1 to 8 GiB per vCPU: with vcpuCount {mk.vcpu_count} use "
            f"{mk.vcpu_count} to {8 * mk.vcpu_count}",
        )
    return mk


# RFC 6996 private ASNs, the ranges both an AWS VPN gateway and a Cloud Router accept.
PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))


def _parse_vpn(c: Checker, value: Any) -> VpnSettings:
    def asn(key: str, v: Any) -> int | None:
        n = c.integer(key, v, 1, PRIVATE_ASNS[-1][1])
        if n is not None and not any(lo <= n <= hi for lo, hi in PRIVATE_ASNS):
            c.add(key, v, "must be a private BGP ASN: 64512 to 65534, or 4200000000 to 4294967294")
            return None
        return n

    spec = {
        "awsAsn": ("aws_asn", asn),
        "gcpAsn": ("gcp_asn", asn),
    }
    parsed = c.fields(k("vpn"), value, spec, "VPN settings")
    vpn = _merge(VpnSettings(), parsed or {})
    if vpn.aws_asn == vpn.gcp_asn:
        c.add(
            f"{k('vpn')}.gcpAsn",
            vpn.gcp_asn,
            "equals awsAsn: the two ends of a link peer over eBGP and need different ASNs; pick another private ASN",
        )
    return vpn


def _parse_topic_defaults(c: Checker, value: Any) -> TopicSettings:
    parsed = c.fields(k("topicDefaults"), value, _topic_spec(c), "topic defaults")
    topic = _merge(TopicSettings(), parsed or {})
    _check_durability(c, k("topicDefaults"), topic)
    return topic


def _parse_log_retention(c: Checker, value: Any) -> int:
    """One of CloudWatch Logs' retention periods (infra.aws_rules.LOG_RETENTION_DAYS)."""
    key = k("logRetentionDays")
    days = c.integer(key, value, 0)
    if days is None:
        return aws_rules.DEFAULT_LOG_RETENTION_DAYS
    if days not in aws_rules.LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in aws_rules.LOG_RETENTION_DAYS)
        c.add(
            key, value, f"is not a retention period CloudWatch Logs accepts: choose one of {allowed} (0: never expire)"
        )
        return aws_rules.DEFAULT_LOG_RETENTION_DAYS
    return days


# failoverAfterSeconds: long enough to ride out a broker restart or a leader
# election, short enough to keep the outage under half a minute.
DEFAULT_FAILOVER_AFTER_SECONDS = 10.0
MAX_FAILOVER_AFTER_SECONDS = 3600.0


def _parse_standby(
    c: Checker, raw: Mapping[str, Any], listed: Mapping[str, Any], regions: Mapping[str, Region], hub_key: Any
) -> Region | None:
    """`standbyHub`: one of the stack's regions, not the hub; absent or empty: no standby.

    A key of `listed` (the regions as written) whose region has problems of
    its own is not reported again here.
    """
    key = k("standbyHub")
    value = raw.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in listed and value not in regions:
        return None
    if not isinstance(value, str) or value not in regions:
        others = ", ".join(r for r in regions if r != hub_key) or "none besides the hub"
        c.add(
            key,
            value,
            f"must be one of the keys of {k('regions')} other than the hub (listed: {others}); "
            "add the region to regions first, or remove the key for no standby",
        )
        return None
    if value == hub_key:
        c.add(key, value, f"is the hub itself ({k('hub')}): a standby must be in another region; pick another one")
        return None
    if geo.is_self_managed(regions[value]):
        _refuse_self_managed_hub(c, key, value)
        return None
    return regions[value]


def _parse_active_hub(c: Checker, raw: Mapping[str, Any], standby: Region | None, standby_refused: bool) -> ActiveHub:
    key = k("activeHub")
    value = raw.get(key, ActiveHub.HUB.value)
    if value not in tuple(ActiveHub):
        c.add(key, value, f"choose one of {', '.join(ActiveHub)} (hub: the hub takes the traffic)")
        return ActiveHub.HUB
    active = ActiveHub(value)
    if active == ActiveHub.STANDBY and standby is None and not standby_refused:
        c.add(
            key,
            value,
            f"needs a standby hub: set {k('standbyHub')} to one of the stack's regions, or set activeHub to hub",
        )
    return active


def _parse_failover_after(c: Checker, value: Any) -> float:
    key = k("failoverAfterSeconds")
    seconds = value
    if isinstance(value, str):
        # Pulumi hands config values to programs as text.
        with contextlib.suppress(ValueError):
            seconds = float(value)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not 0 < seconds <= MAX_FAILOVER_AFTER_SECONDS
    ):
        c.add(
            key,
            value,
            f"must be a number of seconds above 0 and at most {MAX_FAILOVER_AFTER_SECONDS:g}: how long the active hub "
            f"may be unreachable before clients turn to the other hub (default {DEFAULT_FAILOVER_AFTER_SECONDS:g})",
        )
        return DEFAULT_FAILOVER_AFTER_SECONDS
    return float(seconds)


KEYS = (
    "architecture",
    "hub",
    "regions",
    "events",
    "namePrefix",
    "protect",
    "topicDefaults",
    "msk",
    "managedKafka",
    "vpn",
    api_validate.KEY,
    "requireIsolation",
    alerts.KEY,
    "logRetentionDays",
    "scramRotation",
    kafka_admin.KEY,
    "standbyHub",
    "activeHub",
    "failoverAfterSeconds",
)


def _password_keys(rmap: Any) -> set[str]:
    """The config keys self-managed regions name for their administrators' passwords."""
    if not isinstance(rmap, Mapping):
        return set()
    return {
        k(str(v["adminPasswordKey"]))
        for key, v in rmap.items()
        if str(key).startswith(f"{geo.SELF_MANAGED}/") and isinstance(v, Mapping) and "adminPasswordKey" in v
    }


def _never_secret(key: str) -> bool:
    return False


def validate(raw: Mapping[str, Any], stack: str, is_secret: Callable[[str], bool] = _never_secret) -> Config:
    """Validates a stack's config; raises ConfigError listing every problem.

    `is_secret(full key)`: whether Pulumi holds a key as a secret. A stack
    file shows it by the value itself (`{secure: ...}`); a running program
    gets the plain value, and passes Pulumi's own answer here.
    """
    c = Checker()
    passwords = _password_keys(raw.get(k("regions")))
    for full in raw:
        ns, _, name = full.partition(":")
        if ns == NS and name not in KEYS and full not in passwords:
            known = ", ".join(KEYS)
            # A secret is never repeated in an error: a password key no region names yet is one.
            shown = "(secret)" if is_secure(raw[full]) or is_secret(full) else raw[full]
            c.add(full, shown, f"is not a {NS} setting; known: {known}")

    arch = raw.get(k("architecture"))
    if arch not in tuple(Architecture):
        c.add(k("architecture"), arch, f"choose one of {', '.join(Architecture)}")

    regions: dict[str, Region] = {}
    rmap = c.mapping(k("regions"), raw.get(k("regions")), "'<cloud>/<region>' to {cidr: ...}")
    if rmap is not None and not rmap:
        c.add(
            k("regions"),
            raw.get(k("regions")),
            "needs at least one region, for example {aws/us-east-1: {cidr: 10.10.0.0/16}}",
        )
    self_managed: dict[str, SelfManagedCluster] = {}
    for key, value in (rmap or {}).items():
        region = _parse_region(c, str(key), value)
        if region is not None:
            regions[region.key] = region
        if str(key).startswith(f"{geo.SELF_MANAGED}/") and isinstance(value, Mapping):
            settings = _parse_self_managed(c, str(key), value, raw, is_secret)
            if settings is not None and region is not None:
                self_managed[region.key] = settings
    _check_overlaps(c, regions)
    _check_self_managed_logins(c, regions, self_managed)

    hub_key = raw.get(k("hub"))
    hub = regions.get(hub_key) if isinstance(hub_key, str) else None
    if hub is None and not (isinstance(hub_key, str) and hub_key in (rmap or {})):
        listed = ", ".join(map(str, rmap or {})) or "none yet"
        c.add(k("hub"), hub_key, f"must be one of the keys of {k('regions')} (listed: {listed})")
    if isinstance(hub_key, str) and hub_key.startswith(f"{geo.SELF_MANAGED}/"):
        _refuse_self_managed_hub(c, k("hub"), hub_key)
        hub = None

    standby = _parse_standby(c, raw, rmap or {}, regions, hub_key)
    # A standbyHub refused on its own is reported once, not again through activeHub.
    standby_refused = raw.get(k("standbyHub")) not in (None, "") and standby is None
    active_hub = _parse_active_hub(c, raw, standby, standby_refused)
    failover_after = _parse_failover_after(c, raw.get(k("failoverAfterSeconds"), DEFAULT_FAILOVER_AFTER_SECONDS))

    defaults = _parse_topic_defaults(c, raw.get(k("topicDefaults")))
    events = _parse_events(c, raw.get(k("events")), defaults)

    prefix = raw.get(k("namePrefix"), f"mck-{stack}")
    if not isinstance(prefix, str) or not NAME_PREFIX.match(prefix):
        c.add(
            k("namePrefix"),
            prefix,
            "must be 2 to 20 characters of lower-case letters, digits and '-', starting with a letter",
        )
    protect = c.boolean(k("protect"), raw.get(k("protect"), True))
    isolation = c.boolean(k("requireIsolation"), raw.get(k("requireIsolation"), False))
    if isolation and arch == Architecture.HEADER_ROUTING:
        c.add(
            k("architecture"),
            arch,
            f"cannot isolate regions (every region reads every message on the shared event topics), and "
            f"{k('requireIsolation')} is true: choose topic-per-region or regional-clusters, whose per-region "
            "topics an ACL can hold to their region, or set requireIsolation to false",
        )
    msk = _parse_msk(c, raw.get(k("msk")))
    managed_kafka = _parse_managed_kafka(c, raw.get(k("managedKafka")))
    vpn = _parse_vpn(c, raw.get(k("vpn")))

    project = raw.get("gcp:project")
    if any(str(key).startswith(f"{geo.GCP}/") for key in rmap or {}) and not project:
        c.add("gcp:project", project, "is required when any region is in gcp: set it to the GCP project ID")

    api = api_validate.parse(c, raw.get(k(api_validate.KEY)))
    alert_settings = alerts.parse(c, raw.get(k(alerts.KEY)))
    rotation = c.integer(k("scramRotation"), raw.get(k("scramRotation"), 0), 0)
    retention = _parse_log_retention(c, raw.get(k("logRetentionDays"), aws_rules.DEFAULT_LOG_RETENTION_DAYS))
    admin = kafka_admin.parse(c, raw.get(k(kafka_admin.KEY)))
    if admin is not None:
        kafka_admin.check_against_stack(c, admin, regions)

    for key, value, fix in naming.topic_problems(list(regions.values()), list(events)):
        c.add(key, value, fix)
    if c.problems or hub is None or protect is None or not isinstance(arch, str):
        raise ConfigError(stack, c.problems)
    cfg = Config(
        stack=stack,
        architecture=Architecture(arch),
        hub=hub,
        regions=dict(sorted(regions.items())),
        events=dict(sorted(events.items())),
        name_prefix=prefix,
        protect=protect,
        require_isolation=bool(isolation),
        msk=msk,
        managed_kafka=managed_kafka,
        gcp_project=project,
        vpn=vpn,
        api=api,
        alerts=alert_settings,
        log_retention_days=retention,
        scram_rotation=rotation or 0,
        kafka_admin=admin,
        standby=standby,
        active_hub=active_hub,
        failover_after_seconds=failover_after,
        self_managed=dict(sorted(self_managed.items())),
    )
    # Checked once everything else is valid: they need the regions whole.
    if api is not None:
        api_validate.check_against_stack(c, api, cfg.regions, project)
    if c.problems:
        raise ConfigError(stack, c.problems)
    return cfg
