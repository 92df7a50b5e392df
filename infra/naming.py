"""Names: of topics (a public contract with every service) and of resources.

Topic names are upper snake case: the event name, then for per-region topics
the destination's cloud and region, e.g. CREATE_ACCOUNT_AWS_US_WEST_2. They
never contain '.', so no two of them collide in Kafka's metric names (where
'.' and '_' are the same), and they are legal in Kafka, MSK and GCP Managed
Kafka alike. Changing this function renames every topic: don't.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from infra.geo import Region

MAX_TOPIC_NAME = 249


def region_token(region: Region) -> str:
    """AWS_US_WEST_2 for aws/us-west-2."""
    return f"{region.cloud}_{region.name}".replace("-", "_").upper()


def event_topic(event: str) -> str:
    """The single topic of an event (header routing): CREATE_ACCOUNT."""
    return event.upper()


def region_topic(event: str, region: Region) -> str:
    """The topic of an event for one destination: CREATE_ACCOUNT_AWS_US_WEST_2."""
    return f"{event_topic(event)}_{region_token(region)}"


def region_slug(region: Region) -> str:
    """aws-us-west-2: the region's part of resource names."""
    return f"{region.cloud}-{region.name}"


def resource_name(prefix: str, region: Region, *parts: str) -> str:
    """mck-prod-aws-us-west-2[-part...]: deterministic, no random suffix."""
    return "-".join((prefix, region_slug(region), *parts))


def hashed(head: str, key: str, limit: int) -> str:
    """A readable head and a stable 8-hex hash of `key`, within `limit` characters."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{head[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def bounded(name: str, limit: int) -> str:
    """`name` itself when it fits a cloud's length limit, else `hashed(name, name)`.

    Deterministic: the same plan always gives the same names.
    """
    return name if len(name) <= limit else hashed(name, name, limit)


def topic_problems(regions: Iterable[Region], events: Iterable[str]) -> Iterator[tuple[str, str, str]]:
    """(key, value, fix) for each topic name that is too long or collides.

    Checked across every architecture at once: while a stack moves from one
    architecture to another, the old topics stay beside the new ones.
    """
    regions = list(regions)
    owner: dict[str, str] = {}
    for event in events:
        names = [event_topic(event)] + [region_topic(event, r) for r in regions]
        for name in names:
            key = f"multicloud-kafka:events.{event}"
            if len(name) > MAX_TOPIC_NAME:
                yield (
                    key,
                    event,
                    f"gives topic {name[:40]}... of {len(name)} characters; Kafka allows {MAX_TOPIC_NAME}: shorten the event name",
                )
                break
            if name in owner and owner[name] != event:
                yield key, event, f"gives topic {name}, which event '{owner[name]}' also gives: rename one of them"
                break
            owner[name] = event


def managed_kafka_domain(project: str, gcp_region: str) -> str:
    """The private DNS domain of a GCP region's Managed Kafka brokers."""
    return f"{gcp_region}.managedkafka.{project}.cloud.goog"
