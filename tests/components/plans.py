"""AWS-only configs and plans for component tests, importable by any test module."""

from __future__ import annotations

import json
from typing import Any

from infra.architectures import build_plan
from infra.config import validate
from infra.plan import Plan

REGIONS = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "aws/us-west-2": {"cidr": "10.20.0.0/16"},
    "aws/eu-west-1": {"cidr": "10.30.0.0/16"},
}
EVENTS = {"create_account": {"partitions": 12}, "update_profile": {"retentionMs": -1}}


def raw_config(architecture: str, regions: dict | None = None, **keys: Any) -> dict[str, Any]:
    """A stack's config as Pulumi hands it to the program: objects as JSON text."""
    raw = {
        "multicloud-kafka:architecture": architecture,
        "multicloud-kafka:hub": "aws/us-east-1",
        "multicloud-kafka:regions": json.dumps(regions or REGIONS),
        "multicloud-kafka:events": json.dumps(EVENTS),
    }
    for key, value in keys.items():
        raw[key if ":" in key else f"multicloud-kafka:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return raw


def make_plan(architecture: str, regions: dict | None = None, **keys: Any) -> Plan:
    from infra.stackfile import decode

    return build_plan(validate(decode(raw_config(architecture, regions, **keys)), "test"))
