"""The closed sets of kinds the plan is made of, one enum each.

Each is a `StrEnum`, so its members are the exact strings stack files, stack
outputs, tables and JSON carry ("regional-clusters", "ha-vpn", ...), and a
misspelt kind is a NameError at import instead of a silent miss at run time.
"""

from __future__ import annotations

from enum import StrEnum


class Architecture(StrEnum):
    """The stack's `multicloud-kafka:architecture`: how messages find their region."""

    HEADER_ROUTING = "header-routing"
    TOPIC_PER_REGION = "topic-per-region"
    REGIONAL_CLUSTERS = "regional-clusters"


class ClusterRole(StrEnum):
    """What a planned cluster is for."""

    HUB = "hub"
    LOCAL = "local"


class LinkKind(StrEnum):
    """How a spoke region reaches the hub privately."""

    VPC_PEERING = "vpc-peering"
    SHARED_VPC = "shared-vpc"
    HA_VPN = "ha-vpn"


class MirrorMechanism(StrEnum):
    """The managed service that runs one mirror flow."""

    MSK_REPLICATOR = "msk-replicator"
    MM2_GCP_CONNECT = "mm2-managed-kafka-connect"
    MM2_MSK_CONNECT = "mm2-msk-connect"
