"""The regional API's plan: each served region's entry point and the global name.

Names: the global name is `<hostname>.<zone>`; each region also gets its own
name, `<hostname>-<cloud>-<region>.<zone>` (api-aws-us-east-1.example.com),
which health checks probe and clients use to pin a region. Pure, no Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra import geo, naming
from infra.api.settings import BACKEND, ApiAuthorization, ApiSettings, Backend, GcpBackend
from infra.geo import Region


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
    # Who authenticates each request (`api.authorization`).
    authorization: ApiAuthorization = ApiAuthorization(BACKEND)

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
    if isinstance(backend, GcpBackend) and backend.latency_region:
        return backend.latency_region
    return region.name if region.cloud == geo.AWS else geo.GCP_LATENCY_REGION[region.name]


def plan_api(settings: ApiSettings | None, regions: Mapping[str, Region]) -> ApiPlan | None:
    """The API of a validated stack; None when it has no api key.

    Validation has already checked the settings against the stack's regions.
    """
    if settings is None:
        return None
    endpoints = {
        key: Endpoint(
            regions[key],
            region_hostname(settings.hostname, settings.zone, regions[key]),
            latency_region(regions[key], backend),
            backend,
        )
        for key, backend in settings.backends.items()
        if backend is not None
    }
    skipped = tuple(key for key, backend in settings.backends.items() if backend is None)
    return ApiPlan(
        settings.zone,
        settings.zone_id,
        f"{settings.hostname}.{settings.zone}",
        settings.health_path,
        endpoints,
        skipped,
        settings.authorization,
    )
