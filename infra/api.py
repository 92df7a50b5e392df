"""The regional request/response API: its config key and its plan. No Pulumi.

`multicloud-kafka:api` turns on, per planned region, an HTTPS entry point in
that region's cloud in front of a backend the user runs in the region's
network, and one global hostname that DNS answers with the nearest healthy
region. `parse` checks the key on its own (registered in
`config.EXTRA_KEYS`), `problems` against the stack's regions (registered in
`config.CROSS_CHECKS`, so validation at the edge reports both); `plan_api`
returns the names and latency regions every component and output reads.

Names: the global name is `<hostname>.<zone>`; each region also gets its own
name, `<hostname>-<cloud>-<region>.<zone>` (api-aws-us-east-1.example.com),
which health checks probe and clients use to pin a region.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from infra import config, geo, naming
from infra.config import Config, Problem, Region

KEY = "api"
DEFAULT_HOSTNAME = "api"
DEFAULT_HEALTH_PATH = "/healthz"
SKIP = "skip"
GCP_PROTOCOLS = ("HTTPS", "HTTP2", "HTTP")
DEFAULT_MAX_RATE_PER_ENDPOINT = 100

# Route 53 latency routing measures latency to AWS regions only, so a GCP
# entry point is entered under the AWS region nearest to it (by the cities
# of the two data centres). Users in between are sent by that AWS region's
# latency, an approximation that `latencyRegion` overrides per region.
GCP_LATENCY_REGION = {
    "us-central1": "us-east-2",            # Council Bluffs, Iowa -> Ohio
    "us-east1": "us-east-1",               # South Carolina -> N. Virginia
    "us-east4": "us-east-1",               # Ashburn -> N. Virginia
    "us-east5": "us-east-2",               # Columbus -> Ohio
    "us-south1": "us-east-2",              # Dallas -> Ohio
    "us-west1": "us-west-2",               # Oregon -> Oregon
    "us-west2": "us-west-1",               # Los Angeles -> N. California
    "us-west3": "us-west-1",               # Salt Lake City -> N. California
    "us-west4": "us-west-1",               # Las Vegas -> N. California
    "northamerica-northeast1": "ca-central-1",  # Montréal
    "northamerica-northeast2": "ca-central-1",  # Toronto -> Montréal
    "northamerica-south1": "mx-central-1",      # Querétaro
    "southamerica-east1": "sa-east-1",          # São Paulo
    "southamerica-west1": "sa-east-1",          # Santiago -> São Paulo
    "europe-central2": "eu-central-1",     # Warsaw -> Frankfurt
    "europe-north1": "eu-north-1",         # Hamina -> Stockholm
    "europe-north2": "eu-north-1",         # Stockholm
    "europe-southwest1": "eu-south-2",     # Madrid -> Aragón
    "europe-west1": "eu-west-3",           # St. Ghislain, Belgium -> Paris
    "europe-west2": "eu-west-2",           # London
    "europe-west3": "eu-central-1",        # Frankfurt
    "europe-west4": "eu-central-1",        # Eemshaven -> Frankfurt
    "europe-west6": "eu-central-2",        # Zurich
    "europe-west8": "eu-south-1",          # Milan
    "europe-west9": "eu-west-3",           # Paris
    "europe-west10": "eu-central-1",       # Berlin -> Frankfurt
    "europe-west12": "eu-south-1",         # Turin -> Milan
    "me-central1": "me-south-1",           # Doha -> Bahrain
    "me-central2": "me-south-1",           # Dammam -> Bahrain
    "me-west1": "il-central-1",            # Tel Aviv
    "africa-south1": "af-south-1",         # Johannesburg -> Cape Town
    "asia-east1": "ap-east-2",             # Changhua -> Taipei
    "asia-east2": "ap-east-1",             # Hong Kong
    "asia-northeast1": "ap-northeast-1",   # Tokyo
    "asia-northeast2": "ap-northeast-3",   # Osaka
    "asia-northeast3": "ap-northeast-2",   # Seoul
    "asia-south1": "ap-south-1",           # Mumbai
    "asia-south2": "ap-south-1",           # Delhi -> Mumbai
    "asia-southeast1": "ap-southeast-1",   # Singapore
    "asia-southeast2": "ap-southeast-3",   # Jakarta
    "australia-southeast1": "ap-southeast-2",  # Sydney
    "australia-southeast2": "ap-southeast-4",  # Melbourne
}

LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,254}$")
LISTENER_ARN = re.compile(
    r"^arn:aws:elasticloadbalancing:([a-z0-9-]+):(\d{12}):listener/(app|net)/[A-Za-z0-9-]+/[0-9a-f]+/[0-9a-f]+$"
)
CLOUD_MAP_ARN = re.compile(r"^arn:aws:servicediscovery:([a-z0-9-]+):(\d{12}):service/srv-[a-z0-9]+$")
NEG = re.compile(
    r"^(?:https://www\.googleapis\.com/compute/v1/)?projects/([a-z][-a-z0-9]{4,28}[a-z0-9])"
    r"/zones/([a-z0-9-]+)/networkEndpointGroups/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)$"
)
# GCP: a proxy-only subnet is at least a /26; Google recommends a /23.
MAX_PROXY_PREFIX = 26
MAX_FQDN = 253


@dataclass(frozen=True)
class AwsBackend:
    """An internal load balancer listener or a Cloud Map service in the region's VPC.

    Exactly one of `listener_arn` and `cloud_map_service_arn` is set; API
    Gateway reaches it through a VPC link in the region's private subnets.
    """

    port: int
    listener_arn: str | None = None
    cloud_map_service_arn: str | None = None
    # The name on the backend's certificate. When set, API Gateway speaks TLS
    # to the backend and verifies it; unset, the hop inside the VPC is plain.
    tls_server_name: str | None = None

    @property
    def integration_uri(self) -> str:
        return self.listener_arn or self.cloud_map_service_arn or ""


@dataclass(frozen=True)
class GcpBackend:
    """Zonal network endpoint groups (VMs, GKE pods) on the stack's VPC in the region."""

    network_endpoint_groups: tuple[str, ...]
    port: int
    # The regional external Application Load Balancer's proxy-only subnet:
    # outside every region's CIDR, since a GCP region's subnet takes all of it.
    proxy_cidr: ipaddress.IPv4Network
    # Load balancer -> backend. HTTPS by default; the backend's certificate
    # is not verified by Google's proxies.
    protocol: str = "HTTPS"
    max_rate_per_endpoint: int = DEFAULT_MAX_RATE_PER_ENDPOINT
    # The AWS region Route 53 measures latency to for this entry point;
    # None: GCP_LATENCY_REGION's choice.
    latency_region: str | None = None


Backend = AwsBackend | GcpBackend


@dataclass(frozen=True)
class ApiSettings:
    """The validated `multicloud-kafka:api` key; see README "Regional API"."""

    zone: str
    # None: the public hosted zone named `zone` is looked up at deploy time.
    zone_id: str | None
    hostname: str
    health_path: str
    # region key -> its backend, or None when the region is skipped.
    backends: Mapping[str, Backend | None]


@dataclass(frozen=True)
class Endpoint:
    """One region's entry point, as every component and output sees it."""

    region: Region
    hostname: str
    latency_region: str
    backend: Backend

    @property
    def url(self) -> str:
        return f"https://{self.hostname}/"

    def to_dict(self, global_hostname: str) -> dict[str, str]:
        return {
            "url": self.url,
            "hostname": self.hostname,
            "globalUrl": f"https://{global_hostname}/",
            "latencyRegion": self.latency_region,
        }


@dataclass(frozen=True)
class ApiPlan:
    zone: str
    zone_id: str | None
    hostname: str
    health_path: str
    endpoints: Mapping[str, Endpoint]
    skipped: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"https://{self.hostname}/"

    def to_dict(self) -> dict[str, Any]:
        """The `api` stack output: the global name and every region's endpoint."""
        return {
            "hostname": self.hostname,
            "url": self.url,
            "regions": {key: e.to_dict(self.hostname) for key, e in self.endpoints.items()},
            "skipped": list(self.skipped),
        }

    def with_endpoints(self, regions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """The per-region stack output, each served region given its `api` entry."""
        return {
            key: {**value, "api": self.endpoints[key].to_dict(self.hostname)} if key in self.endpoints else dict(value)
            for key, value in regions.items()
        }


def region_hostname(hostname: str, zone: str, region: Region) -> str:
    return f"{hostname}-{naming.region_slug(region)}.{zone}"


def latency_region(region: Region, backend: Backend) -> str:
    if region.cloud == geo.AWS:
        return region.name
    return backend.latency_region or GCP_LATENCY_REGION[region.name]


def _k(*parts: str) -> str:
    return ".".join((config.k(KEY), *parts))


Add = Callable[[str, Any, str], None]


def _text(add: Add, key: str, value: Any, pattern: re.Pattern, fix: str) -> str | None:
    if not isinstance(value, str) or not pattern.match(value):
        add(key, value, fix)
        return None
    return value


def _zone(add: Add, value: Any) -> str | None:
    key = _k("zone")
    if not isinstance(value, str) or not value:
        add(key, value, "is required: the DNS zone (a Route 53 public hosted zone) of the API's names, e.g. example.com")
        return None
    if value.endswith("."):
        add(key, value, f"drop the trailing dot: write {value.rstrip('.')}")
        return None
    if value != value.lower():
        add(key, value, f"write it in lower case: {value.lower()}")
        return None
    labels = value.split(".")
    if len(labels) < 2 or not all(LABEL.match(label) for label in labels) or len(value) > MAX_FQDN:
        add(key, value, "is not a DNS zone name: dot-separated labels of a-z, 0-9 and '-', e.g. example.com")
        return None
    return value


def _port(add: Add, key: str, value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        add(key, value, "must be the TCP port the backend serves on, from 1 to 65535")
        return None
    return value


def _fields(add: Add, key: str, value: Mapping[str, Any], known: tuple[str, ...], required: tuple[str, ...]) -> bool:
    ok = True
    for name in value:
        if name not in known:
            add(f"{key}.{name}", value[name], f"is not a backend setting here; known: {', '.join(known)}")
            ok = False
    for name in required:
        if name not in value:
            add(f"{key}.{name}", None, f"is required ({_REQUIRED_WHY[name]})")
            ok = False
    return ok


_REQUIRED_WHY = {
    "port": "the TCP port the backend serves on; the entry point's network rules admit that port only",
    "networkEndpointGroups": "the zonal NEGs of the backend in this region, as projects/P/zones/Z/networkEndpointGroups/N",
    "proxyCidr": "a private range for the load balancer's proxy-only subnet, outside every region's CIDR, e.g. 10.130.0.0/23",
}


def _arn_region(add: Add, key: str, value: Any, pattern: re.Pattern, region: Region, what: str) -> str | None:
    if not isinstance(value, str) or not (m := pattern.match(value)):
        add(key, value, f"is not the ARN of {what}")
        return None
    if m.group(1) != region.name:
        add(key, value, f"is in {m.group(1)}: the backend of {region.key} must be in {region.name}")
        return None
    return value


def _aws_backend(add: Add, key: str, value: Mapping[str, Any], region: Region) -> AwsBackend | None:
    known = ("listenerArn", "cloudMapServiceArn", "tlsServerName", "port")
    ok = _fields(add, key, value, known, ("port",))
    kinds = [name for name in ("listenerArn", "cloudMapServiceArn") if name in value]
    if len(kinds) != 1:
        add(key, dict(value), "give exactly one of listenerArn (an internal ALB or NLB listener in the region's VPC) "
            "or cloudMapServiceArn (a Cloud Map service whose instances are in it)")
        return None
    listener = cloud_map = None
    if kinds[0] == "listenerArn":
        listener = _arn_region(add, f"{key}.listenerArn", value["listenerArn"], LISTENER_ARN, region,
                               "an Elastic Load Balancing listener (arn:aws:elasticloadbalancing:...:listener/app|net/...)")
    else:
        cloud_map = _arn_region(add, f"{key}.cloudMapServiceArn", value["cloudMapServiceArn"], CLOUD_MAP_ARN, region,
                                "a Cloud Map service (arn:aws:servicediscovery:...:service/srv-...)")
    server = value.get("tlsServerName")
    if server is not None and not (isinstance(server, str) and all(LABEL.match(p) for p in server.split("."))):
        add(f"{key}.tlsServerName", server, "must be the DNS name on the backend's certificate, e.g. orders.internal.example.com")
        ok = False
    port = _port(add, f"{key}.port", value.get("port")) if "port" in value else None
    if not ok or port is None or not (listener or cloud_map):
        return None
    return AwsBackend(port, listener, cloud_map, server)


def _gcp_backend(add: Add, key: str, value: Mapping[str, Any], region: Region) -> GcpBackend | None:
    known = ("networkEndpointGroups", "port", "proxyCidr", "protocol", "maxRatePerEndpoint", "latencyRegion")
    ok = _fields(add, key, value, known, ("networkEndpointGroups", "port", "proxyCidr"))
    negs: list[str] = []
    raw_negs = value.get("networkEndpointGroups")
    if "networkEndpointGroups" in value and (not isinstance(raw_negs, list) or not raw_negs):
        add(f"{key}.networkEndpointGroups", raw_negs, "must be a non-empty list of zonal NEG paths")
        ok = False
    for neg in raw_negs if isinstance(raw_negs, list) else []:
        m = NEG.match(neg) if isinstance(neg, str) else None
        if not m:
            add(f"{key}.networkEndpointGroups", neg, "is not a zonal NEG: write projects/P/zones/Z/networkEndpointGroups/N")
            ok = False
        elif m.group(2).rsplit("-", 1)[0] != region.name:
            add(f"{key}.networkEndpointGroups", neg, f"is in zone {m.group(2)}: use a NEG in a zone of {region.name}")
            ok = False
        else:
            negs.append(neg)
    port = _port(add, f"{key}.port", value.get("port")) if "port" in value else None
    proxy = _proxy_cidr(add, f"{key}.proxyCidr", value["proxyCidr"]) if "proxyCidr" in value else None
    protocol = value.get("protocol", "HTTPS")
    if protocol not in GCP_PROTOCOLS:
        add(f"{key}.protocol", protocol, f"must be one of {', '.join(GCP_PROTOCOLS)} (the protocol the backend serves)")
        ok = False
    rate = value.get("maxRatePerEndpoint", DEFAULT_MAX_RATE_PER_ENDPOINT)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        add(f"{key}.maxRatePerEndpoint", rate, "must be a whole number of requests per second of at least 1")
        ok = False
    latency = value.get("latencyRegion")
    if latency is not None and latency not in geo.AWS_REGIONS:
        add(f"{key}.latencyRegion", latency, "must be an AWS region (Route 53 measures latency to AWS regions only), e.g. eu-west-1")
        ok = False
    if not ok or port is None or proxy is None:
        return None
    return GcpBackend(tuple(negs), port, proxy, protocol, rate, latency)


def _proxy_cidr(add: Add, key: str, value: Any) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(str(value))
    except ValueError:
        add(key, value, "is not an IPv4 CIDR block without host bits, e.g. 10.130.0.0/23")
        return None
    if net.version != 4 or not any(net.subnet_of(p) for p in config.PRIVATE_RANGES):
        add(key, value, "must be a private (RFC 1918) IPv4 range, e.g. 10.130.0.0/23")
        return None
    if net.prefixlen > MAX_PROXY_PREFIX:
        add(key, value, f"is too small: a proxy-only subnet is at least a /{MAX_PROXY_PREFIX} (Google recommends a /23)")
        return None
    return net


def _backend(add: Add, region_key: Any, value: Any) -> tuple[str, Backend | None] | None:
    key = _k("backends", str(region_key))
    cloud, _, name = str(region_key).partition("/")
    if cloud not in geo.CLOUDS or name not in geo.REGIONS[cloud]:
        add(key, region_key, "backend keys are region keys of multicloud-kafka:regions, e.g. aws/us-east-1")
        return None
    region = Region(cloud, name, ipaddress.ip_network("0.0.0.0/32"))
    if value == SKIP:
        return region.key, None
    if not isinstance(value, Mapping):
        example = "{listenerArn: arn:aws:elasticloadbalancing:..., port: 443}" if cloud == geo.AWS else \
            "{networkEndpointGroups: [projects/P/zones/Z/networkEndpointGroups/N], port: 8443, proxyCidr: 10.130.0.0/23}"
        add(key, value, f"must be the region's backend, {example}, or '{SKIP}' to serve no API there")
        return None
    parse = _aws_backend if cloud == geo.AWS else _gcp_backend
    backend = parse(add, key, value, region)
    return (region.key, backend) if backend is not None else None


def parse(add: Add, value: Any) -> ApiSettings | None:
    """Validates `multicloud-kafka:api` on its own; None when the key is absent."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        add(config.k(KEY), value, "must be a map: {zone: example.com, backends: {<region>: {...}}}")
        return None
    known = ("zone", "zoneId", "hostname", "healthPath", "backends")
    for name in value:
        if name not in known:
            add(_k(str(name)), value[name], f"is not an api setting; known: {', '.join(known)}")
    zone = _zone(add, value.get("zone"))
    zone_id = value.get("zoneId")
    bad_zone_id = False
    if zone_id is not None:
        zone_id = _text(add, _k("zoneId"), zone_id, ZONE_ID,
                        "must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ, or be left out to look the zone up")
        bad_zone_id = zone_id is None
    hostname = _text(add, _k("hostname"), value.get("hostname", DEFAULT_HOSTNAME), LABEL,
                     "must be one DNS label (a-z, 0-9, '-', not at either end), e.g. api")
    health = _text(add, _k("healthPath"), value.get("healthPath", DEFAULT_HEALTH_PATH), HEALTH_PATH,
                   "must be a URL path starting with '/', e.g. /healthz, that the backend answers with 2xx or 3xx")
    raw = value.get("backends")
    backends: dict[str, Backend | None] = {}
    ok = isinstance(raw, Mapping) and bool(raw)
    if not ok:
        add(_k("backends"), raw, "is required: a map of region key -> backend (or 'skip') for every region")
    for region_key, b in raw.items() if ok else ():
        parsed = _backend(add, region_key, b)
        if parsed is None:
            ok = False
        else:
            backends[parsed[0]] = parsed[1]
    if not ok or bad_zone_id or zone is None or hostname is None or health is None:
        return None
    return ApiSettings(zone, zone_id, hostname, health, dict(sorted(backends.items())))


config.EXTRA_KEYS[KEY] = parse


def problems(cfg: Config, api: ApiSettings) -> list[Problem]:
    """What the api key gets wrong about the stack's regions."""
    out: list[Problem] = []
    regions = cfg.regions
    for key in api.backends:
        if key not in regions:
            out.append(Problem(_k("backends", key), key, f"is not a region of {config.k('regions')}: remove it or add the region"))
    for key in regions:
        if key not in api.backends:
            out.append(Problem(_k("backends"), sorted(api.backends),
                               f"has no entry for region {key}: give it a backend, or '{key}: {SKIP}' to serve no API there"))
    served = {k: b for k, b in api.backends.items() if b is not None and k in regions}
    if api.backends and not served:
        out.append(Problem(_k("backends"), sorted(api.backends), "skips every region: serve at least one, or remove the api key"))
    by_latency: dict[str, str] = {}
    for key, backend in served.items():
        region = regions[key]
        name = region_hostname(api.hostname, api.zone, region)
        if len(name.split(".")[0]) > 63 or len(name) > MAX_FQDN:
            out.append(Problem(_k("hostname"), api.hostname, f"gives {name}, longer than DNS allows: shorten the hostname"))
        where = latency_region(region, backend)
        if where in by_latency:
            out.append(Problem(
                _k("backends", key), key,
                f"is measured from AWS {where}, like {by_latency[where]}; Route 53 keeps one latency record per "
                f"AWS region: set latencyRegion of the GCP one to another AWS region, or skip one of them",
            ))
        by_latency.setdefault(where, key)
        if isinstance(backend, GcpBackend):
            out.extend(_gcp_problems(cfg, api, key, backend))
    return out


def _gcp_problems(cfg: Config, api: ApiSettings, key: str, backend: GcpBackend) -> list[Problem]:
    out = []
    for region in cfg.regions.values():
        if backend.proxy_cidr.overlaps(region.cidr):
            out.append(Problem(_k("backends", key, "proxyCidr"), str(backend.proxy_cidr),
                               f"overlaps {region.key} ({region.cidr}): pick a range outside every region's CIDR"))
    for other_key, other in api.backends.items():
        if other_key < key and isinstance(other, GcpBackend) and other.proxy_cidr.overlaps(backend.proxy_cidr):
            out.append(Problem(_k("backends", key, "proxyCidr"), str(backend.proxy_cidr),
                               f"overlaps the proxyCidr of {other_key} ({other.proxy_cidr}): they share one VPC"))
    for neg in backend.network_endpoint_groups:
        project = NEG.match(neg).group(1)
        if project != cfg.gcp_project:
            out.append(Problem(_k("backends", key, "networkEndpointGroups"), neg,
                               f"is in project {project}: the backend must be on the stack's VPC in {cfg.gcp_project}"))
    return out


config.CROSS_CHECKS[KEY] = lambda cfg: problems(cfg, cfg.extra[KEY])


def plan_api(cfg: Config) -> ApiPlan | None:
    """The API of a validated stack; None when it has no api key.

    validate() has already checked the key against the stack's regions.
    """
    api: ApiSettings | None = cfg.extra.get(KEY)
    if api is None:
        return None
    endpoints = {
        key: Endpoint(
            cfg.regions[key],
            region_hostname(api.hostname, api.zone, cfg.regions[key]),
            latency_region(cfg.regions[key], backend),
            backend,
        )
        for key, backend in api.backends.items()
        if backend is not None
    }
    skipped = tuple(key for key, backend in api.backends.items() if backend is None)
    return ApiPlan(api.zone, api.zone_id, f"{api.hostname}.{api.zone}", api.health_path, endpoints, skipped)
