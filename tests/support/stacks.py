"""Stack configs for tests and tools, as Pulumi hands them to the program, and their plans.

`raw_config` is the one builder of a stack's raw config (full keys, objects as
JSON text); the region sets below are the topologies the tests share,
`stack_file_config` reads a stack file the same way, and `bench_config` is
the benchmark's stack, scaled by region and event counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra import geo, stackfile
from infra.api.plan import ApiPlan
from infra.architectures import build_plan
from infra.config import Config, validate
from infra.plan import Plan

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "__main__.py"

PROJECT = "acme-streaming"
HUB = "aws/us-east-1"
EVENTS = {"create_account": {"partitions": 12}, "update_profile": {"retentionMs": -1}}

# AWS only: the hub and two spokes.
AWS_REGIONS = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "aws/us-west-2": {"cidr": "10.20.0.0/16"},
    "aws/eu-west-1": {"cidr": "10.30.0.0/16"},
}
# AWS only, two regions: the regional API's smallest topology.
AWS_PAIR = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "aws/eu-west-1": {"cidr": "10.30.0.0/16"},
}
# The hub on AWS, two GCP spokes: MirrorMaker 2 on Managed Kafka Connect.
AWS_HUB = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "aws/us-west-2": {"cidr": "10.20.0.0/16"},
    "gcp/europe-west1": {"cidr": "10.30.0.0/16"},
    "gcp/asia-southeast1": {"cidr": "10.40.0.0/16"},
}
# The hub on GCP: MSK Connect for the AWS spokes, a shared-VPC GCP spoke,
# DNS forwarding of Managed Kafka names into AWS.
GCP_HUB = {
    "gcp/europe-west1": {"cidr": "10.30.0.0/16"},
    "gcp/asia-southeast1": {"cidr": "10.40.0.0/16"},
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "aws/us-west-2": {"cidr": "10.20.0.0/22"},
}
# The AWS hub and two GCP spokes, one AWS region only.
MIXED_REGIONS = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "gcp/europe-west1": {"cidr": "10.30.0.0/16"},
    "gcp/asia-southeast1": {"cidr": "10.40.0.0/16"},
}

# A self-managed Kafka cluster beside the AWS hub and a GCP spoke: it already
# runs, reached at its bootstrap as an administrator whose password is a
# Pulumi secret (docs/config.md, Self-managed Kafka).
SELF_MANAGED_KEY = "self-managed/paris-dc1"
ADMIN_PASSWORD_KEY = "parisAdminPassword"
# The administrator's password as the program gets it (plain, its key listed as a secret).
ADMIN_PASSWORD = "not-a-real-password"
SECRET_KEYS = (f"multicloud-kafka:{ADMIN_PASSWORD_KEY}",)


def self_managed_region(
    bootstrap: tuple[str, ...] = ("kafka-1.paris.example.com:9096",), **extra: Any
) -> dict[str, Any]:
    """A self-managed region's entry: its range, its brokers and its administrator."""
    return {
        "cidr": "10.50.0.0/16",
        "bootstrap": list(bootstrap),
        "adminUser": "pulumi-admin",
        "adminPasswordKey": ADMIN_PASSWORD_KEY,
        **extra,
    }


SELF_MANAGED_REGIONS = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "gcp/europe-west1": {"cidr": "10.30.0.0/16"},
    SELF_MANAGED_KEY: self_managed_region(),
}


def self_managed_raw(
    architecture: str = "regional-clusters", regions: Mapping[str, Any] = SELF_MANAGED_REGIONS, **keys: Any
) -> dict[str, str]:
    """`raw_config` with the administrator's password set as the program gets it (pass SECRET_KEYS along)."""
    return raw_config(architecture, regions, **{ADMIN_PASSWORD_KEY: ADMIN_PASSWORD, **keys})


def self_managed_file_raw(
    architecture: str = "regional-clusters", regions: Mapping[str, Any] = SELF_MANAGED_REGIONS, **keys: Any
) -> dict[str, str]:
    """`raw_config` with the password as a stack file holds it, encrypted (`{secure: ...}`)."""
    return raw_config(architecture, regions, **{ADMIN_PASSWORD_KEY: {"secure": "v1:AAAAexample"}, **keys})


# Backends of the regional API (the `api` key), per cloud.
LISTENER = "arn:aws:elasticloadbalancing:{region}:111122223333:listener/app/orders/50dc6c495c0c9188/f2f7dc8efc522ab2"
CLOUD_MAP = "arn:aws:servicediscovery:{region}:111122223333:service/srv-e4anhexample0004"
NEG = "projects/" + PROJECT + "/zones/{region}-b/networkEndpointGroups/orders"


def raw_config(
    architecture: str = "topic-per-region",
    regions: Mapping[str, Any] = AWS_REGIONS,
    hub: str = HUB,
    events: Mapping[str, Any] = EVENTS,
    **keys: Any,
) -> dict[str, str]:
    """A stack's config as Pulumi hands it to the program: full keys, objects as JSON text.

    `keys` are more settings: a bare name is one of this project's keys, a
    name with ':' is taken as is (pass those as `**{"aws:region": ...}`);
    strings go in as they are, anything else as JSON. A stack with a GCP
    region gets `gcp:project` unless `keys` names it, and one with AWS and another kind
    `kafkaAdmin: {from: in-network}` (SCRAM logins' ACLs go through the brokers)
    unless `keys` names it (`kafkaAdmin=None` leaves it out).
    """
    raw = {
        "multicloud-kafka:architecture": architecture,
        "multicloud-kafka:hub": hub,
        "multicloud-kafka:regions": json.dumps(regions),
        "multicloud-kafka:events": json.dumps(events),
    }
    if any(key.startswith(f"{geo.GCP}/") for key in regions):
        raw["gcp:project"] = PROJECT
    kinds = {key.split("/")[0] for key in regions}
    if geo.AWS in kinds and len(kinds) > 1:
        raw["multicloud-kafka:kafkaAdmin"] = json.dumps({"from": "in-network"})
    for key, value in keys.items():
        if value is None:
            raw.pop(key if ":" in key else f"multicloud-kafka:{key}", None)
            continue
        raw[key if ":" in key else f"multicloud-kafka:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return raw


def stack_file_config(stack: str) -> dict[str, str]:
    """A stack file's config as the Pulumi CLI hands it to the program: objects as JSON text, booleans lower case."""
    raw = stackfile.read(stackfile.stack_path(stack))
    return {
        k: json.dumps(v) if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in raw.items()
    }


def config_of(raw: Mapping[str, Any], stack: str = "test") -> Config:
    """The validated config of a raw config, the way the program validates it."""
    return validate(stackfile.decode(raw), stack)


def make_plan(
    architecture: str = "topic-per-region",
    regions: Mapping[str, Any] = AWS_REGIONS,
    hub: str = HUB,
    **keys: Any,
) -> Plan:
    """The plan of `raw_config(architecture, regions, hub, **keys)`."""
    return build_plan(config_of(raw_config(architecture, regions, hub, **keys)))


def aws_backend(region: str, **extra: Any) -> dict[str, Any]:
    """An API backend in an AWS region: an ALB listener."""
    return {"listenerArn": LISTENER.format(region=region), "port": 443, **extra}


def gcp_backend(region: str, proxy: str, **extra: Any) -> dict[str, Any]:
    """An API backend in a GCP region: a zonal NEG behind a proxy-only subnet."""
    return {"networkEndpointGroups": [NEG.format(region=region)], "port": 8443, "proxyCidr": proxy, **extra}


def api_key(backends: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The value of the `api` key: api.example.com over `backends`."""
    return {
        "zone": "example.com",
        "hostname": "api",
        "backends": dict(backends),
        "authorization": {"type": "backend"},
        **extra,
    }


def api_raw(
    regions: Mapping[str, Any], api_value: Mapping[str, Any] | None, architecture: str = "topic-per-region"
) -> dict[str, str]:
    """An unprotected stack with one event and, unless None, the `api` key."""
    keys: dict[str, Any] = {"protect": "false"}
    if api_value is not None:
        keys["api"] = api_value
    return raw_config(architecture, regions, events={"create_account": {}}, **keys)


def api_plans(
    regions: Mapping[str, Any], api_value: Mapping[str, Any] | None, architecture: str = "topic-per-region"
) -> tuple[Plan, ApiPlan | None]:
    """(Plan, API plan) of `api_raw(...)`, validated the way the program does it."""
    plan = build_plan(config_of(api_raw(regions, api_value, architecture)))
    return plan, plan.api


def gcp_regions(count: int) -> list[str]:
    """`count` GCP regions in a stable order."""
    return sorted(geo.REGIONS[geo.GCP])[:count]


def aws_regions(count: int, hub: str = "us-east-1") -> list[str]:
    """`count` AWS regions, `hub` first, in a stable order."""
    return [hub, *sorted(r for r in geo.AWS_REGIONS if r != hub)[: count - 1]]


def bench_regions(aws_names: list[str], gcp_names: list[str]) -> dict[str, dict[str, str]]:
    """AWS regions on 10.1.0.0/16 onwards, GCP regions on 10.101.0.0/16 onwards, in the order given."""
    regions = {f"aws/{r}": {"cidr": f"10.{i + 1}.0.0/16"} for i, r in enumerate(aws_names)}
    regions.update({f"gcp/{r}": {"cidr": f"10.{i + 101}.0.0/16"} for i, r in enumerate(gcp_names)})
    return regions


def bench_config(aws_names: list[str], gcp_names: list[str], events: int) -> dict[str, str]:
    """The benchmark's stack: regional-clusters, the first AWS region the hub, `events` events, unprotected."""
    return raw_config(
        "regional-clusters",
        bench_regions(aws_names, gcp_names),
        hub=f"aws/{aws_names[0]}",
        events={f"event_{i:03d}": {} for i in range(events)},
        protect="false",
    )
