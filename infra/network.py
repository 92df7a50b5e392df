"""Address planning and link kinds: pure functions of the validated regions."""

from __future__ import annotations

import ipaddress

from infra import geo
from infra.kinds import LinkKind

# RFC 1918: GCP Managed Kafka requires its subnet to be inside these.
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(c) for c in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# Subnets carved per region: room for three AZs, whether or not the region's
# brokers use all three (infra/aws_rules.py: az_count).
AZ_COUNT = 3
KAFKA_PORTS = {
    # MSK: TLS, SASL/SCRAM, IAM listeners; GCP Managed Kafka serves SASL on 9092.
    geo.AWS: (9094, 9096, 9098),
    geo.GCP: (9092,),
}


def quarters(cidr: ipaddress.IPv4Network) -> list[ipaddress.IPv4Network]:
    return list(cidr.subnets(prefixlen_diff=2))


def az_subnets(cidr: ipaddress.IPv4Network, count: int = AZ_COUNT) -> list[ipaddress.IPv4Network]:
    """The private subnet of each of `count` AZs (at most three): the first quarters."""
    return quarters(cidr)[: min(count, AZ_COUNT)]


def reserved_subnet(cidr: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """The last quarter, kept for connectivity (VPN endpoints, regional API)."""
    return quarters(cidr)[AZ_COUNT]


def link_kind(a_cloud: str, b_cloud: str) -> LinkKind | None:
    """How two regions reach each other privately; None where the stack makes no link.

    Two GCP regions share the stack's one global VPC; two AWS regions peer
    their VPCs; AWS and GCP meet over HA VPN (four tunnels, BGP). A
    self-managed region is reached over the operator's own connectivity
    (a VPN or an interconnect the stack does not own): `infra.selfmanaged`
    says what it must let through.
    """
    if geo.SELF_MANAGED in (a_cloud, b_cloud):
        return None
    if a_cloud == b_cloud:
        return LinkKind.SHARED_VPC if a_cloud == geo.GCP else LinkKind.VPC_PEERING
    return LinkKind.HA_VPN
