"""The clouds and regions a stack may name.

Kept as data here (not looked up from the clouds) so that validation and
planning run with no credentials and no network. A region launched after this
list was written is a one-line addition.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

AWS = "aws"
GCP = "gcp"
CLOUDS = (AWS, GCP)
# A Kafka cluster that already runs outside the two clouds (on-premises, or
# another platform): `self-managed/<name>`, its name the operator's choice.
# The stack creates no network or cluster there, only topics, logins and ACLs
# through its brokers (docs/config.md, Self-managed Kafka).
SELF_MANAGED = "self-managed"
# Every first part a region key may have.
KINDS = (*CLOUDS, SELF_MANAGED)

# Commercial partition only: GovCloud and the sovereign partitions need their
# own accounts and endpoints, which this project does not model.
AWS_REGIONS = frozenset(
    [
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "ca-west-1",
        "mx-central-1",
        "sa-east-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "af-south-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
    ]
)

GCP_REGIONS = frozenset(
    [
        "us-central1",
        "us-east1",
        "us-east4",
        "us-east5",
        "us-south1",
        "us-west1",
        "us-west2",
        "us-west3",
        "us-west4",
        "northamerica-northeast1",
        "northamerica-northeast2",
        "northamerica-south1",
        "southamerica-east1",
        "southamerica-west1",
        "europe-central2",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-west1",
        "europe-west2",
        "europe-west3",
        "europe-west4",
        "europe-west6",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "me-central1",
        "me-central2",
        "me-west1",
        "africa-south1",
        "asia-east1",
        "asia-east2",
        "asia-northeast1",
        "asia-northeast2",
        "asia-northeast3",
        "asia-south1",
        "asia-south2",
        "asia-southeast1",
        "asia-southeast2",
        "australia-southeast1",
        "australia-southeast2",
    ]
)

REGIONS = {AWS: AWS_REGIONS, GCP: GCP_REGIONS}

# Route 53 latency routing measures latency to AWS regions only, so a GCP
# entry point is entered under the AWS region nearest to it (by the cities
# of the two data centres). Users in between are sent by that AWS region's
# latency, an approximation that `latencyRegion` overrides per region.
GCP_LATENCY_REGION = {
    "us-central1": "us-east-2",  # Council Bluffs, Iowa -> Ohio
    "us-east1": "us-east-1",  # South Carolina -> N. Virginia
    "us-east4": "us-east-1",  # Ashburn -> N. Virginia
    "us-east5": "us-east-2",  # Columbus -> Ohio
    "us-south1": "us-east-2",  # Dallas -> Ohio
    "us-west1": "us-west-2",  # Oregon -> Oregon
    "us-west2": "us-west-1",  # Los Angeles -> N. California
    "us-west3": "us-west-1",  # Salt Lake City -> N. California
    "us-west4": "us-west-1",  # Las Vegas -> N. California
    "northamerica-northeast1": "ca-central-1",  # Montréal
    "northamerica-northeast2": "ca-central-1",  # Toronto -> Montréal
    "northamerica-south1": "mx-central-1",  # Querétaro
    "southamerica-east1": "sa-east-1",  # São Paulo
    "southamerica-west1": "sa-east-1",  # Santiago -> São Paulo
    "europe-central2": "eu-central-1",  # Warsaw -> Frankfurt
    "europe-north1": "eu-north-1",  # Hamina -> Stockholm
    "europe-north2": "eu-north-1",  # Stockholm
    "europe-southwest1": "eu-south-2",  # Madrid -> Aragón
    "europe-west1": "eu-west-3",  # St. Ghislain, Belgium -> Paris
    "europe-west2": "eu-west-2",  # London
    "europe-west3": "eu-central-1",  # Frankfurt
    "europe-west4": "eu-central-1",  # Eemshaven -> Frankfurt
    "europe-west6": "eu-central-2",  # Zurich
    "europe-west8": "eu-south-1",  # Milan
    "europe-west9": "eu-west-3",  # Paris
    "europe-west10": "eu-central-1",  # Berlin -> Frankfurt
    "europe-west12": "eu-south-1",  # Turin -> Milan
    "me-central1": "me-south-1",  # Doha -> Bahrain
    "me-central2": "me-south-1",  # Dammam -> Bahrain
    "me-west1": "il-central-1",  # Tel Aviv
    "africa-south1": "af-south-1",  # Johannesburg -> Cape Town
    "asia-east1": "ap-east-2",  # Changhua -> Taipei
    "asia-east2": "ap-east-1",  # Hong Kong
    "asia-northeast1": "ap-northeast-1",  # Tokyo
    "asia-northeast2": "ap-northeast-3",  # Osaka
    "asia-northeast3": "ap-northeast-2",  # Seoul
    "asia-south1": "ap-south-1",  # Mumbai
    "asia-south2": "ap-south-1",  # Delhi -> Mumbai
    "asia-southeast1": "ap-southeast-1",  # Singapore
    "asia-southeast2": "ap-southeast-3",  # Jakarta
    "australia-southeast1": "ap-southeast-2",  # Sydney
    "australia-southeast2": "ap-southeast-4",  # Melbourne
}


def is_self_managed(region: Region) -> bool:
    return region.cloud == SELF_MANAGED


@dataclass(frozen=True)
class Region:
    """One region that runs services: `cloud/name`, with its network range."""

    cloud: str
    name: str
    cidr: ipaddress.IPv4Network

    @property
    def key(self) -> str:
        return f"{self.cloud}/{self.name}"
