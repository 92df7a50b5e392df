"""AWS's documented rules that this project's plans must meet, as data and pure functions.

No Pulumi and no credentials: the config check, the plan checks of the AWS
realization, the network component and the policy pack all read these, so
they cannot disagree. Each rule names the document it comes from; the tests
that encode them cite the same documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# "Client subnets can't occupy the Availability Zone with ID use1-az3."
# AWS CloudFormation, AWS::MSK::Cluster BrokerNodeGroupInfo, ClientSubnets.
MSK_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3"})

# "If you use the US West (N. California) Region, specify exactly two
# subnets. For other Regions where Amazon MSK is available, you can specify
# either two or three subnets." (same document). Everywhere else this project
# spreads brokers over three AZs.
DEFAULT_AZ_COUNT = 3
MSK_AZ_COUNT = {"us-west-1": 2}

# The zones where an API Gateway HTTP API VPC link can place its network
# interfaces, per region: "Set up VPC links for HTTP APIs in API Gateway",
# section "Availability by Region". The regional API's VPC link uses the
# brokers' private subnets: zones it accepts are chosen first, in every stack
# (whether or not the API is on), so that turning the API on later never
# moves a subnet; where a region has too few of them (ap-east-1) the brokers
# still get their AZs and the VPC link takes only the subnets it accepts.
# Regions absent here are not restricted by that table as read when this
# was written.
VPC_LINK_ZONE_IDS: dict[str, frozenset[str]] = {
    "us-east-1": frozenset({"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"}),
    "us-east-2": frozenset({"use2-az1", "use2-az2", "use2-az3"}),
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
    "us-west-2": frozenset({"usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"}),
    "ap-east-1": frozenset({"ape1-az2", "ape1-az3"}),
    "ap-south-1": frozenset({"aps1-az1", "aps1-az2", "aps1-az3"}),
    "ap-northeast-2": frozenset({"apne2-az1", "apne2-az2", "apne2-az3"}),
    "ap-southeast-1": frozenset({"apse1-az1", "apse1-az2", "apse1-az3"}),
}

# DescribeAvailabilityZones filter: real AZs only, never a Local Zone or a
# Wavelength Zone (zone types "local-zone", "wavelength-zone"), even opted in.
ZONE_TYPE_FILTER_NAME = "zone-type"
ZONE_TYPE_VALUES = ["availability-zone"]

# "Topic Operations", Amazon MSK Developer Guide: the topic APIs (which
# aws.msk.Topic calls) need an MSK Provisioned cluster running Apache Kafka
# 3.6.0 or later; they are not available for MSK Serverless.
TOPIC_API_MIN_KAFKA = (3, 6, 0)

# "Supported cluster types and versions for MSK Replicator": m5.large or
# larger (t3.small clusters aren't supported); at least three brokers in the
# source and in the target; clusters in two AZs need at least four.
# "Amazon MSK multi-VPC private connectivity in a single Region": multi-VPC
# private connectivity does not support the t3.small instance type.
T3_SMALL = "kafka.t3.small"
REPLICATOR_MIN_BROKERS = 3
REPLICATOR_MIN_BROKERS_TWO_AZ = 4

_ZONE_NUMBER = re.compile(r"-az(\d+)$")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+|x)")


class ZoneError(ValueError):
    """A region offers fewer usable availability zones than the plan needs."""


def az_count(region: str) -> int:
    """How many AZs (and subnets) the brokers of an AWS region are spread over."""
    return MSK_AZ_COUNT.get(region, DEFAULT_AZ_COUNT)


def _zone_number(zone_id: str) -> int:
    match = _ZONE_NUMBER.search(zone_id)
    return int(match.group(1)) if match else 0


def vpc_link_accepts(region: str, zone_id: str) -> bool:
    """Whether an HTTP API VPC link may use a subnet in `zone_id`."""
    allowed = VPC_LINK_ZONE_IDS.get(region)
    return allowed is None or zone_id in allowed


def usable_zone_ids(region: str, zone_ids: Sequence[str]) -> list[str]:
    """The zone IDs MSK accepts, those the API's VPC link accepts too first, then by zone number."""
    ok = [z for z in zone_ids if z not in MSK_UNSUPPORTED_ZONE_IDS]
    return sorted(ok, key=lambda z: (not vpc_link_accepts(region, z), _zone_number(z), z))


def choose_zones(region: str, zone_ids: Sequence[str]) -> list[str]:
    """The zone IDs of the region's subnets, one per AZ of `az_count(region)`.

    Chosen by zone ID, which names the same physical zone in every account
    (zone names are shuffled per account), lowest zone numbers first, so a
    zone added to the region later never moves a subnet.
    """
    usable = usable_zone_ids(region, zone_ids)
    need = az_count(region)
    if len(usable) < need:
        raise ZoneError(
            f"AWS region {region} offers this account {len(usable)} availability zone(s) that MSK accepts "
            f"({', '.join(usable) or 'none'}, from {', '.join(sorted(zone_ids)) or 'none'}); "
            f"the brokers need {need}: pick another region for this stack"
        )
    return usable[:need]


def kafka_version(version: str) -> tuple[int, int, int] | None:
    """(3, 9, 0) for '3.9.x' or '3.9.x.kraft'; None if not a version."""
    match = _VERSION.match(version)
    if not match:
        return None
    patch = 0 if match.group(3) == "x" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), patch


def min_replicator_brokers(region: str) -> int:
    """The fewest brokers MSK Replicator accepts on a cluster in `region`."""
    return REPLICATOR_MIN_BROKERS_TWO_AZ if az_count(region) == 2 else REPLICATOR_MIN_BROKERS


# The retention periods CloudWatch Logs accepts, in days ("PutRetentionPolicy",
# Amazon CloudWatch Logs API Reference, retentionInDays; the same list in AWS
# CloudFormation, AWS::Logs::LogGroup RetentionInDays). 0 is the AWS
# provider's "never expire": the log group then carries no retention policy.
LOG_RETENTION_DAYS = (
    0,
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
# Every log group of a stack keeps this many days unless
# `multicloud-kafka:logRetentionDays` says otherwise.
DEFAULT_LOG_RETENTION_DAYS = 30
