"""The regional API's validated settings: pure data, no Pulumi.

`multicloud-kafka:api` turns on, per planned region, an HTTPS entry point in
that region's cloud in front of a backend the user runs in the region's
network, and one global hostname that DNS answers with the nearest healthy
region. `infra.api.validate` reads the key into these types; `infra.api.plan`
turns them into the plan's entry points.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_HOSTNAME = "api"
DEFAULT_HEALTH_PATH = "/healthz"
DEFAULT_MAX_RATE_PER_ENDPOINT = 100
SKIP = "skip"
GCP_PROTOCOLS = ("HTTPS", "HTTP2", "HTTP")


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

# `api.authorization.type`: who authenticates every request.
JWT = "jwt"
IAM = "iam"
BACKEND = "backend"
AUTHORIZATION_TYPES = (JWT, IAM, BACKEND)


@dataclass(frozen=True)
class ApiAuthorization:
    """`multicloud-kafka:api.authorization`: required, so no API is open by default.

    `jwt`: API Gateway validates a bearer token of `issuer` for one of
    `audience` before any request reaches the backend. `iam`: callers sign
    with SigV4 and API Gateway checks their IAM permission. `backend`: the
    stack states that the backend authenticates every request itself.
    """

    type: str
    issuer: str | None = None
    audience: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiSettings:
    """The validated `multicloud-kafka:api` key; see docs/regional-api.md."""

    zone: str
    # None: the public hosted zone named `zone` is looked up at deploy time.
    zone_id: str | None
    hostname: str
    health_path: str
    # region key -> its backend, or None when the region is skipped.
    backends: Mapping[str, Backend | None]
    authorization: ApiAuthorization = ApiAuthorization(BACKEND)
