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
    # The standby hub: every hub topic under the same name, replicated from
    # whichever of the two is active (`multicloud-kafka:standbyHub`).
    STANDBY = "standby"


class ActiveHub(StrEnum):
    """The stack's `multicloud-kafka:activeHub`: which of the hub and the standby takes the traffic."""

    HUB = "hub"
    STANDBY = "standby"


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


class Auth(StrEnum):
    """How a principal authenticates to one cluster."""

    # In AWS, to MSK: the principal's IAM role (SASL/IAM, port 9098).
    AWS_IAM = "aws-iam"
    # From GCP, to MSK: a SASL/SCRAM-SHA-512 user (port 9096).
    SCRAM = "scram"
    # In GCP, to Managed Kafka: the workload's own service account (OAUTHBEARER).
    GCP_IAM = "gcp-iam"
    # From AWS, to Managed Kafka: a service account and its key (SASL/PLAIN).
    GCP_KEY = "gcp-key"


class PrincipalKind(StrEnum):
    """Who a principal is."""

    # The services of one region, as their routing contract lets them.
    SERVICES = "services"
    # One mirror flow (MSK Replicator or MirrorMaker 2), source to target.
    MIRROR = "mirror"
