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
    # Into a self-managed cluster: no managed service of either cloud reaches
    # it for sure, so the operator runs MirrorMaker 2 next to it, with the
    # worker and connector configuration the stack renders (docs/adr/0009).
    MM2_OPERATOR = "mm2-run-by-operator"


class Auth(StrEnum):
    """How a principal authenticates to one cluster."""

    # In AWS, to MSK: the principal's IAM role (SASL/IAM, port 9098).
    AWS_IAM = "aws-iam"
    # From GCP or a self-managed region, to MSK: a SASL/SCRAM-SHA-512 user
    # (port 9096); to a self-managed cluster, from anywhere: a SCRAM user there.
    SCRAM = "scram"
    # In GCP, to Managed Kafka: the workload's own service account (OAUTHBEARER).
    GCP_IAM = "gcp-iam"
    # From AWS or a self-managed region, to Managed Kafka: a service account and its key (SASL/PLAIN).
    GCP_KEY = "gcp-key"


class ScramMechanism(StrEnum):
    """The SASL mechanism of a self-managed cluster's logins, as Kafka spells it."""

    SHA_512 = "SCRAM-SHA-512"
    SHA_256 = "SCRAM-SHA-256"


class PrincipalKind(StrEnum):
    """Who a principal is."""

    # The services of one region, as their routing contract lets them.
    SERVICES = "services"
    # One mirror flow (MSK Replicator or MirrorMaker 2), source to target.
    MIRROR = "mirror"


class AdminPath(StrEnum):
    """`multicloud-kafka:kafkaAdmin.from`: how `pulumi up` reaches the brokers pulumi-kafka manages."""

    # The deployer runs inside a planned region's network (a CI runner in its VPC).
    IN_NETWORK = "in-network"
