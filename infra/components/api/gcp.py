"""A GCP region's API entry point: a regional external Application Load Balancer.

Regional (not global) so that a request entering in this region is served
by this region's backend and no other: the choice of region belongs to the
global DNS name, as on AWS. The load balancer is Google-managed Envoy: its
proxies sit in a proxy-only subnet of the stack's VPC and reach the
backend's network endpoint groups privately, beside the Managed Kafka
cluster. HTTPS only on 443 (no port 80 forwarding rule at all), a
Certificate Manager certificate validated by DNS, and an SSL policy with
TLS 1.2 as the floor. The firewall admits the backend port from the proxies
and Google's health checkers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra.api.plan import ApiPlan, Endpoint
from infra.api.settings import GcpBackend
from infra.components.api import dns
from infra.components.base import expect, present

# Where Google's health check probes come from.
HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
MIN_TLS = "TLS_1_2"
TLS_PROFILE = "MODERN"


@dataclass(frozen=True)
class GcpEntryPointArgs:
    plan: ApiPlan
    endpoint: Endpoint
    # The region's GcpRegionNetwork (infra/components/gcp/network.py).
    network: Any
    zone: dns.Zone


def _health_check_args(protocol: str, path: str) -> dict[str, Any]:
    common: dict[str, Any] = {"request_path": path, "port_specification": "USE_SERVING_PORT"}
    if protocol == "HTTPS":
        return {"https_health_check": gcp.compute.RegionHealthCheckHttpsHealthCheckArgs(**common)}
    if protocol == "HTTP2":
        return {"http2_health_check": gcp.compute.RegionHealthCheckHttp2HealthCheckArgs(**common)}
    return {"http_health_check": gcp.compute.RegionHealthCheckHttpHealthCheckArgs(**common)}


class GcpEntryPoint(pulumi.ComponentResource):
    """HTTPS on the region's own name and the global name, balanced over the backend's NEGs."""

    TYPE = "multicloud-kafka:api:GcpEntryPoint"

    def __init__(self, name: str, args: GcpEntryPointArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        plan, endpoint, net, zone = args.plan, args.endpoint, args.network, args.zone
        backend = expect(endpoint.backend, GcpBackend, f"API entry point of {endpoint.region.key}")
        region = endpoint.region.name
        project = net.project
        regional = pulumi.ResourceOptions(parent=self, provider=net.provider)

        proxy_subnet = gcp.compute.Subnetwork(
            f"{name}-proxy",
            name=f"{name}-proxy",
            project=project,
            region=region,
            network=net.vpc.id,
            ip_cidr_range=str(backend.proxy_cidr),
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
            opts=regional,
        )
        self.firewall = gcp.compute.Firewall(
            f"{name}-backend",
            name=f"{name}-backend",
            project=project,
            network=net.vpc.id,
            direction="INGRESS",
            description=f"API backend port from the {region} load balancer's proxies and Google health checks only",
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[str(backend.port)])],
            source_ranges=[str(backend.proxy_cidr), *HEALTH_CHECK_RANGES],
            opts=pulumi.ResourceOptions(parent=self, provider=net.global_provider),
        )
        self.address = gcp.compute.Address(
            name,
            name=name,
            project=project,
            region=region,
            address_type="EXTERNAL",
            network_tier="PREMIUM",
            opts=regional,
        )

        authorizations, records = [], []
        for role, domain in (("regional", endpoint.hostname), ("global", plan.hostname)):
            auth = gcp.certificatemanager.DnsAuthorization(
                f"{name}-{role}",
                name=f"{name}-{role}",
                project=project,
                location=region,
                domain=domain,
                type="PER_PROJECT_RECORD",
                opts=regional,
            )
            authorizations.append(auth)
            record = auth.dns_resource_records.apply(lambda rs: rs[0])
            records.append(
                zone.validation_record(
                    "gcp",
                    domain,
                    record.apply(lambda r: present(r.name, "record name")),
                    record.apply(lambda r: present(r.type, "record type")),
                    record.apply(lambda r: present(r.data, "record data")),
                )
            )
        self.certificate = gcp.certificatemanager.Certificate(
            name,
            name=name,
            project=project,
            location=region,
            managed=gcp.certificatemanager.CertificateManagedArgs(
                domains=[endpoint.hostname, plan.hostname],
                dns_authorizations=[a.id for a in authorizations],
            ),
            opts=pulumi.ResourceOptions.merge(regional, pulumi.ResourceOptions(depends_on=records)),
        )
        self.ssl_policy = gcp.compute.RegionSslPolicy(
            name,
            name=name,
            project=project,
            region=region,
            min_tls_version=MIN_TLS,
            profile=TLS_PROFILE,
            opts=regional,
        )
        health_check = gcp.compute.RegionHealthCheck(
            name,
            name=name,
            project=project,
            region=region,
            **_health_check_args(backend.protocol, plan.health_path),
            opts=regional,
        )
        service = gcp.compute.RegionBackendService(
            name,
            name=name,
            project=project,
            region=region,
            load_balancing_scheme="EXTERNAL_MANAGED",
            protocol=backend.protocol,
            health_checks=health_check.id,
            backends=[
                gcp.compute.RegionBackendServiceBackendArgs(
                    group=neg,
                    balancing_mode="RATE",
                    max_rate_per_endpoint=backend.max_rate_per_endpoint,
                    capacity_scaler=1.0,
                )
                for neg in backend.network_endpoint_groups
            ],
            log_config=gcp.compute.RegionBackendServiceLogConfigArgs(enable=True, sample_rate=1.0),
            opts=regional,
        )
        url_map = gcp.compute.RegionUrlMap(
            name, name=name, project=project, region=region, default_service=service.id, opts=regional
        )
        self.proxy = gcp.compute.RegionTargetHttpsProxy(
            name,
            name=name,
            project=project,
            region=region,
            url_map=url_map.id,
            certificate_manager_certificates=[self.certificate.id],
            ssl_policy=self.ssl_policy.id,
            opts=regional,
        )
        self.forwarding_rule = gcp.compute.ForwardingRule(
            name,
            name=name,
            project=project,
            region=region,
            ip_protocol="TCP",
            port_range="443",
            load_balancing_scheme="EXTERNAL_MANAGED",
            network_tier="PREMIUM",
            network=net.vpc.id,
            ip_address=self.address.id,
            target=self.proxy.id,
            opts=pulumi.ResourceOptions.merge(regional, pulumi.ResourceOptions(depends_on=[proxy_subnet])),
        )

        target = dns.Target(address=self.address.address)
        self.health_check = dns.endpoint_records(self, name, zone, plan, endpoint, target, target)
        # What the region's entry in the `api` output adds to the plan's names.
        self.outputs = {"address": self.address.address, "proxyCidr": str(backend.proxy_cidr)}
        self.register_outputs({"url": endpoint.url, "healthCheckId": self.health_check.id, **self.outputs})
