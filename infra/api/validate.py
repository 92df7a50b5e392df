"""Validation of `multicloud-kafka:api`, with the checker of the rest of the config.

`parse` reads the key on its own; `check_against_stack` checks it against the
stack's regions and GCP project. `infra.config.validate` calls both, so one
`ConfigError` reports the api key's problems with every other key's. Pure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from infra import geo
from infra.api.plan import latency_region, region_hostname
from infra.api.settings import (
    AUTHORIZATION_TYPES,
    DEFAULT_HEALTH_PATH,
    DEFAULT_HOSTNAME,
    DEFAULT_MAX_RATE_PER_ENDPOINT,
    GCP_PROTOCOLS,
    IAM,
    JWT,
    SKIP,
    ApiAuthorization,
    ApiSettings,
    AwsBackend,
    Backend,
    GcpBackend,
)
from infra.geo import Region
from infra.network import PRIVATE_RANGES
from infra.validation import Checker, k

KEY = "api"

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


def _k(*parts: str) -> str:
    return ".".join((k(KEY), *parts))


def _text(c: Checker, key: str, value: Any, pattern: re.Pattern[str], fix: str) -> str | None:
    if not isinstance(value, str) or not pattern.match(value):
        c.add(key, value, fix)
        return None
    return value


def _zone(c: Checker, value: Any) -> str | None:
    key = _k("zone")
    if not isinstance(value, str) or not value:
        c.add(
            key, value, "is required: the DNS zone (a Route 53 public hosted zone) of the API's names, e.g. example.com"
        )
        return None
    if value.endswith("."):
        c.add(key, value, f"drop the trailing dot: write {value.rstrip('.')}")
        return None
    if value != value.lower():
        c.add(key, value, f"write it in lower case: {value.lower()}")
        return None
    labels = value.split(".")
    if len(labels) < 2 or not all(LABEL.match(label) for label in labels) or len(value) > MAX_FQDN:
        c.add(key, value, "is not a DNS zone name: dot-separated labels of a-z, 0-9 and '-', e.g. example.com")
        return None
    return value


def _port(c: Checker, key: str, value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        c.add(key, value, "must be the TCP port the backend serves on, from 1 to 65535")
        return None
    return value


def _fields(c: Checker, key: str, value: Mapping[str, Any], known: tuple[str, ...], required: tuple[str, ...]) -> bool:
    ok = True
    for name in value:
        if name not in known:
            c.add(f"{key}.{name}", value[name], f"is not a backend setting here; known: {', '.join(known)}")
            ok = False
    for name in required:
        if name not in value:
            c.add(f"{key}.{name}", None, f"is required ({_REQUIRED_WHY[name]})")
            ok = False
    return ok


_REQUIRED_WHY = {
    "port": "the TCP port the backend serves on; the entry point's network rules admit that port only",
    "networkEndpointGroups": "the zonal NEGs of the backend in this region, as projects/P/zones/Z/networkEndpointGroups/N",
    "proxyCidr": "a private range for the load balancer's proxy-only subnet, outside every region's CIDR, e.g. 10.130.0.0/23",
}


def _arn_region(c: Checker, key: str, value: Any, pattern: re.Pattern[str], region: Region, what: str) -> str | None:
    if not isinstance(value, str) or not (m := pattern.match(value)):
        c.add(key, value, f"is not the ARN of {what}")
        return None
    if m.group(1) != region.name:
        c.add(key, value, f"is in {m.group(1)}: the backend of {region.key} must be in {region.name}")
        return None
    return value


def _aws_backend(c: Checker, key: str, value: Mapping[str, Any], region: Region) -> AwsBackend | None:
    known = ("listenerArn", "cloudMapServiceArn", "tlsServerName", "port")
    ok = _fields(c, key, value, known, ("port",))
    kinds = [name for name in ("listenerArn", "cloudMapServiceArn") if name in value]
    if len(kinds) != 1:
        c.add(
            key,
            dict(value),
            "give exactly one of listenerArn (an internal ALB or NLB listener in the region's VPC) "
            "or cloudMapServiceArn (a Cloud Map service whose instances are in it)",
        )
        return None
    listener = cloud_map = None
    if kinds[0] == "listenerArn":
        listener = _arn_region(
            c,
            f"{key}.listenerArn",
            value["listenerArn"],
            LISTENER_ARN,
            region,
            "an Elastic Load Balancing listener (arn:aws:elasticloadbalancing:...:listener/app|net/...)",
        )
    else:
        cloud_map = _arn_region(
            c,
            f"{key}.cloudMapServiceArn",
            value["cloudMapServiceArn"],
            CLOUD_MAP_ARN,
            region,
            "a Cloud Map service (arn:aws:servicediscovery:...:service/srv-...)",
        )
    server = value.get("tlsServerName")
    if server is not None and not (isinstance(server, str) and all(LABEL.match(p) for p in server.split("."))):
        c.add(
            f"{key}.tlsServerName",
            server,
            "must be the DNS name on the backend's certificate, e.g. orders.internal.example.com",
        )
        ok = False
    port = _port(c, f"{key}.port", value.get("port")) if "port" in value else None
    if not ok or port is None or not (listener or cloud_map):
        return None
    return AwsBackend(port, listener, cloud_map, server)


def _gcp_backend(c: Checker, key: str, value: Mapping[str, Any], region: Region) -> GcpBackend | None:
    known = ("networkEndpointGroups", "port", "proxyCidr", "protocol", "maxRatePerEndpoint", "latencyRegion")
    ok = _fields(c, key, value, known, ("networkEndpointGroups", "port", "proxyCidr"))
    negs: list[str] = []
    raw_negs = value.get("networkEndpointGroups")
    if "networkEndpointGroups" in value and (not isinstance(raw_negs, list) or not raw_negs):
        c.add(f"{key}.networkEndpointGroups", raw_negs, "must be a non-empty list of zonal NEG paths")
        ok = False
    for neg in raw_negs if isinstance(raw_negs, list) else []:
        m = NEG.match(neg) if isinstance(neg, str) else None
        if not m:
            c.add(
                f"{key}.networkEndpointGroups",
                neg,
                "is not a zonal NEG: write projects/P/zones/Z/networkEndpointGroups/N",
            )
            ok = False
        elif m.group(2).rsplit("-", 1)[0] != region.name:
            c.add(f"{key}.networkEndpointGroups", neg, f"is in zone {m.group(2)}: use a NEG in a zone of {region.name}")
            ok = False
        else:
            negs.append(neg)
    port = _port(c, f"{key}.port", value.get("port")) if "port" in value else None
    proxy = _proxy_cidr(c, f"{key}.proxyCidr", value["proxyCidr"]) if "proxyCidr" in value else None
    protocol = value.get("protocol", "HTTPS")
    if protocol not in GCP_PROTOCOLS:
        c.add(
            f"{key}.protocol", protocol, f"must be one of {', '.join(GCP_PROTOCOLS)} (the protocol the backend serves)"
        )
        ok = False
    rate = value.get("maxRatePerEndpoint", DEFAULT_MAX_RATE_PER_ENDPOINT)
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        c.add(f"{key}.maxRatePerEndpoint", rate, "must be a whole number of requests per second of at least 1")
        ok = False
    latency = value.get("latencyRegion")
    if latency is not None and latency not in geo.AWS_REGIONS:
        c.add(
            f"{key}.latencyRegion",
            latency,
            "must be an AWS region (Route 53 measures latency to AWS regions only), e.g. eu-west-1",
        )
        ok = False
    if not ok or port is None or proxy is None:
        return None
    return GcpBackend(tuple(negs), port, proxy, protocol, rate, latency)


def _proxy_cidr(c: Checker, key: str, value: Any) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(str(value))
    except ValueError:
        c.add(key, value, "is not an IPv4 CIDR block without host bits, e.g. 10.130.0.0/23")
        return None
    if not isinstance(net, ipaddress.IPv4Network) or not any(net.subnet_of(p) for p in PRIVATE_RANGES):
        c.add(key, value, "must be a private (RFC 1918) IPv4 range, e.g. 10.130.0.0/23")
        return None
    if net.prefixlen > MAX_PROXY_PREFIX:
        c.add(
            key, value, f"is too small: a proxy-only subnet is at least a /{MAX_PROXY_PREFIX} (Google recommends a /23)"
        )
        return None
    return net


def _backend(c: Checker, region_key: Any, value: Any) -> tuple[str, Backend | None] | None:
    key = _k("backends", str(region_key))
    cloud, _, name = str(region_key).partition("/")
    if cloud == geo.SELF_MANAGED:
        # Entry points are load balancers in a cloud: the stack makes none in a self-managed region.
        if value != SKIP:
            c.add(key, value, f"a {geo.SELF_MANAGED} region has no API entry point the stack could make: set '{SKIP}'")
            return None
        return str(region_key), None
    if cloud not in geo.CLOUDS or name not in geo.REGIONS[cloud]:
        c.add(key, region_key, "backend keys are region keys of multicloud-kafka:regions, e.g. aws/us-east-1")
        return None
    region = Region(cloud, name, ipaddress.IPv4Network("0.0.0.0/32"))
    if value == SKIP:
        return region.key, None
    if not isinstance(value, Mapping):
        example = (
            "{listenerArn: arn:aws:elasticloadbalancing:..., port: 443}"
            if cloud == geo.AWS
            else "{networkEndpointGroups: [projects/P/zones/Z/networkEndpointGroups/N], port: 8443, proxyCidr: 10.130.0.0/23}"
        )
        c.add(key, value, f"must be the region's backend, {example}, or '{SKIP}' to serve no API there")
        return None
    parse = _aws_backend if cloud == geo.AWS else _gcp_backend
    backend = parse(c, key, value, region)
    return (region.key, backend) if backend is not None else None


ISSUER = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/-]*)?$")


def _authorization(c: Checker, value: Any, backends: Mapping[str, Backend | None]) -> ApiAuthorization | None:
    """`api.authorization`: required; jwt and iam authorize at API Gateway, which only AWS entry points have."""
    key = _k("authorization")
    example = "{type: jwt, issuer: https://login.example.com/, audience: [orders-api]}, {type: iam} or {type: backend}"
    if value is None:
        c.add(
            key,
            value,
            f"is required: say who authenticates the API's requests, e.g. {example} "
            "('backend' states that the backend authenticates every request itself)",
        )
        return None
    if not isinstance(value, Mapping) or value.get("type") not in AUTHORIZATION_TYPES:
        c.add(
            f"{key}.type",
            value.get("type") if isinstance(value, Mapping) else value,
            f"must be one of {', '.join(AUTHORIZATION_TYPES)}: {example}",
        )
        return None
    kind = value["type"]
    known = ("type", "issuer", "audience") if kind == JWT else ("type",)
    ok = True
    for name in value:
        if name not in known:
            c.add(
                f"{key}.{name}",
                value[name],
                f"is not a setting of authorization type {kind}; known: {', '.join(known)}",
            )
            ok = False
    issuer, audience = value.get("issuer"), value.get("audience")
    if kind == JWT:
        if not (isinstance(issuer, str) and ISSUER.match(issuer)):
            c.add(
                f"{key}.issuer",
                issuer,
                "must be the token issuer's https URL (its 'iss' claim), "
                "e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
            )
            ok = False
        if not (isinstance(audience, list) and audience and all(isinstance(a, str) and a for a in audience)):
            c.add(
                f"{key}.audience", audience, "must be a non-empty list of the audiences ('aud' claim) tokens may carry"
            )
            ok = False
    if kind in (JWT, IAM):
        gcp = sorted(r for r, b in backends.items() if b is not None and r.startswith(f"{geo.GCP}/"))
        if gcp:
            c.add(
                f"{key}.type",
                kind,
                f"is checked by API Gateway, but {', '.join(gcp)} are served by a GCP regional "
                "load balancer, which validates no JWT or IAM signature: set type backend (the "
                "backends authenticate every request) or skip the GCP regions",
            )
            ok = False
    served = [r for r, b in backends.items() if b is not None]
    if kind == IAM and len(served) > 1:
        c.add(
            f"{key}.type",
            kind,
            f"SigV4 signatures name one region, but the global name may answer from any of "
            f"{', '.join(sorted(served))}: use jwt, or serve one region",
        )
        ok = False
    if not ok:
        return None
    if kind != JWT:
        return ApiAuthorization(kind)
    return ApiAuthorization(kind, str(issuer), tuple(str(a) for a in audience or ()))


def parse(c: Checker, value: Any) -> ApiSettings | None:
    """Validates `multicloud-kafka:api` on its own; None when the key is absent."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        c.add(k(KEY), value, "must be a map: {zone: example.com, backends: {<region>: {...}}}")
        return None
    known = ("zone", "zoneId", "hostname", "healthPath", "backends", "authorization")
    for name in value:
        if name not in known:
            c.add(_k(str(name)), value[name], f"is not an api setting; known: {', '.join(known)}")
    zone = _zone(c, value.get("zone"))
    zone_id = value.get("zoneId")
    bad_zone_id = False
    if zone_id is not None:
        zone_id = _text(
            c,
            _k("zoneId"),
            zone_id,
            ZONE_ID,
            "must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ, or be left out to look the zone up",
        )
        bad_zone_id = zone_id is None
    hostname = _text(
        c,
        _k("hostname"),
        value.get("hostname", DEFAULT_HOSTNAME),
        LABEL,
        "must be one DNS label (a-z, 0-9, '-', not at either end), e.g. api",
    )
    health = _text(
        c,
        _k("healthPath"),
        value.get("healthPath", DEFAULT_HEALTH_PATH),
        HEALTH_PATH,
        "must be a URL path starting with '/', e.g. /healthz, that the backend answers with 2xx or 3xx",
    )
    raw = value.get("backends")
    backends: dict[str, Backend | None] = {}
    ok = isinstance(raw, Mapping) and bool(raw)
    if not ok:
        c.add(_k("backends"), raw, "is required: a map of region key -> backend (or 'skip') for every region")
    for region_key, b in raw.items() if ok and isinstance(raw, Mapping) else ():
        parsed = _backend(c, region_key, b)
        if parsed is None:
            ok = False
        else:
            backends[parsed[0]] = parsed[1]
    authorization = _authorization(c, value.get("authorization"), backends) if ok else None
    if not ok or bad_zone_id or zone is None or hostname is None or health is None or authorization is None:
        return None
    return ApiSettings(zone, zone_id, hostname, health, dict(sorted(backends.items())), authorization)


def check_against_stack(c: Checker, api: ApiSettings, regions: Mapping[str, Region], gcp_project: str | None) -> None:
    """What the api key gets wrong about the stack's regions and project."""
    for key in api.backends:
        if key not in regions:
            c.add(_k("backends", key), key, f"is not a region of {k('regions')}: remove it or add the region")
    for key in regions:
        if key not in api.backends:
            c.add(
                _k("backends"),
                sorted(api.backends),
                f"has no entry for region {key}: give it a backend, or '{key}: {SKIP}' to serve no API there",
            )
    served = {k: b for k, b in api.backends.items() if b is not None and k in regions}
    if api.backends and not served:
        c.add(_k("backends"), sorted(api.backends), "skips every region: serve at least one, or remove the api key")
    by_latency: dict[str, str] = {}
    for key, backend in served.items():
        region = regions[key]
        name = region_hostname(api.hostname, api.zone, region)
        if len(name.split(".")[0]) > 63 or len(name) > MAX_FQDN:
            c.add(_k("hostname"), api.hostname, f"gives {name}, longer than DNS allows: shorten the hostname")
        where = latency_region(region, backend)
        if where in by_latency:
            c.add(
                _k("backends", key),
                key,
                f"is measured from AWS {where}, like {by_latency[where]}; Route 53 keeps one latency record per "
                f"AWS region: set latencyRegion of the GCP one to another AWS region, or skip one of them",
            )
        by_latency.setdefault(where, key)
        if isinstance(backend, GcpBackend):
            _check_gcp_backend(c, api, regions, gcp_project, key, backend)


def _check_gcp_backend(
    c: Checker, api: ApiSettings, regions: Mapping[str, Region], gcp_project: str | None, key: str, backend: GcpBackend
) -> None:
    for region in regions.values():
        if backend.proxy_cidr.overlaps(region.cidr):
            c.add(
                _k("backends", key, "proxyCidr"),
                str(backend.proxy_cidr),
                f"overlaps {region.key} ({region.cidr}): pick a range outside every region's CIDR",
            )
    for other_key, other in api.backends.items():
        if other_key < key and isinstance(other, GcpBackend) and other.proxy_cidr.overlaps(backend.proxy_cidr):
            c.add(
                _k("backends", key, "proxyCidr"),
                str(backend.proxy_cidr),
                f"overlaps the proxyCidr of {other_key} ({other.proxy_cidr}): they share one VPC",
            )
    for neg in backend.network_endpoint_groups:
        match = NEG.match(neg)
        project = match.group(1) if match else None
        if project != gcp_project:
            c.add(
                _k("backends", key, "networkEndpointGroups"),
                neg,
                f"is in project {project}: the backend must be on the stack's VPC in {gcp_project}",
            )
