"""The addressing of one AWS <-> GCP HA VPN link: pure, no Pulumi.

A link is GCP HA VPN (two interfaces) facing two AWS site-to-site VPN
connections (two tunnels each): four tunnels, each with its own BGP session,
which is Google's and AWS's 99.99% design. Every tunnel carries a /30 of
169.254.0.0/16 inside it; AWS assigns the two ends' addresses within it (the first host
its own, the second the customer gateway's), and the realization reads them
from the VPN connection.

The four /30s of a link are one /28 chosen from the link's spoke region key
alone, so adding a region never moves the tunnels of another link. The
choice is a hash: `tests/plan/test_vpn.py` checks that no two known
regions of `infra.geo` share a block, and `problems` re-checks a plan.
A link to the standby hub hashes its own key instead, and steps past the
blocks the hub links already use at either of its ends.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra import geo
from infra.geo import Region
from infra.kinds import LinkKind

if TYPE_CHECKING:
    # The plan holds each link's tunnels, so it imports this module.
    from infra.plan import Link, Plan

TUNNELS = 4
LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
BLOCK_PREFIX = 28
# AWS refuses these as tunnel inside CIDRs.
AWS_RESERVED = tuple(
    ipaddress.ip_network(c)
    for c in (
        "169.254.0.0/30",
        "169.254.1.0/30",
        "169.254.2.0/30",
        "169.254.3.0/30",
        "169.254.4.0/30",
        "169.254.5.0/30",
        "169.254.169.252/30",
    )
)
_BLOCKS = 2 ** (BLOCK_PREFIX - LINK_LOCAL.prefixlen)


@dataclass(frozen=True)
class Tunnel:
    """One of the four tunnels, seen from both ends."""

    index: int
    # The GCP HA VPN interface (0 or 1) and the AWS connection (0 or 1) it
    # belongs to: GCP interface i faces AWS connection i.
    gcp_interface: int
    aws_connection: int
    # 1 or 2: AWS numbers the two tunnels of a connection.
    aws_tunnel: int
    inside_cidr: ipaddress.IPv4Network


@dataclass(frozen=True)
class LinkEnds:
    """Which region of a cross-cloud link is on AWS and which on GCP."""

    aws: Region
    gcp: Region


def ends(a: Region, b: Region) -> LinkEnds:
    """The two regions of a cross-cloud link, by cloud."""
    if {a.cloud, b.cloud} != {geo.AWS, geo.GCP}:
        raise ValueError(f"{a.key} <-> {b.key} is not between AWS and GCP")
    return LinkEnds(aws=a, gcp=b) if a.cloud == geo.AWS else LinkEnds(aws=b, gcp=a)


def _reserved(block: ipaddress.IPv4Network) -> bool:
    return any(block.overlaps(r) for r in AWS_RESERVED)


def inside_block(seed: str, avoid: frozenset[ipaddress.IPv4Network] = frozenset()) -> ipaddress.IPv4Network:
    """The /28 of 169.254.0.0/16 holding the four tunnels of a link: from a hub's spoke key, or a standby link's key.

    The first block from the seed's hash that AWS accepts and `avoid` does not hold.
    """
    h = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")
    size = 2 ** (32 - BLOCK_PREFIX)
    for step in range(_BLOCKS):
        first = LINK_LOCAL.network_address + ((h + step) % _BLOCKS) * size
        block = ipaddress.IPv4Network((first, BLOCK_PREFIX))
        if not _reserved(block) and block not in avoid:
            return block
    raise AssertionError("169.254.0.0/16 has free blocks")


def block_of(link: Link) -> ipaddress.IPv4Network | None:
    """The /28 a planned link's tunnels use; None for a link without tunnels."""
    if not link.tunnels:
        return None
    return link.tunnels[0].inside_cidr.supernet(new_prefix=BLOCK_PREFIX)


def tunnels(seed: str, avoid: frozenset[ipaddress.IPv4Network] = frozenset()) -> tuple[Tunnel, ...]:
    """The four tunnels of one link, each with its /30 of `inside_block(seed, avoid)`."""
    cidrs = list(inside_block(seed, avoid).subnets(new_prefix=30))
    return tuple(
        Tunnel(index=i, gcp_interface=i // 2, aws_connection=i // 2, aws_tunnel=i % 2 + 1, inside_cidr=cidrs[i])
        for i in range(TUNNELS)
    )


def problems(plan: Plan) -> list[str]:
    """Two links that meet at one region's gateway must not share inside addresses."""
    out = []
    seen: dict[tuple[str, ipaddress.IPv4Network], str] = {}
    for link in plan.links.values():
        block = block_of(link)
        if link.kind != LinkKind.HA_VPN or block is None:
            continue
        for end in (link.hub, link.spoke):
            key = (end, block)
            if key in seen:
                out.append(
                    f"link {link.key}: its tunnel addresses {block} collide with link {seen[key]}'s "
                    f"at {end}; extend infra.vpn.inside_block so the two links differ"
                )
            seen[key] = link.key
    return out
