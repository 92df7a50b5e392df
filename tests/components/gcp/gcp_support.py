"""Plans and runs for the GCP and cross-cloud component tests."""

from __future__ import annotations

import json
from typing import Any

from infra import stackfile
from infra.architectures import build_plan
from infra.components import mocks
from infra.config import validate
from infra.plan import Plan

PROJECT = "acme-test"
EVENTS = {"create_account": {"partitions": 12}, "update_profile": {}}
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


def raw_config(architecture: str, regions: dict, hub: str, **keys: Any) -> dict[str, str]:
    """A stack's config as Pulumi hands it to the program: objects as JSON text."""
    raw = {
        "gcp:project": PROJECT,
        "multicloud-kafka:architecture": architecture,
        "multicloud-kafka:hub": hub,
        "multicloud-kafka:regions": json.dumps(regions),
        "multicloud-kafka:events": json.dumps(EVENTS),
    }
    for key, value in keys.items():
        raw[f"multicloud-kafka:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return raw


def make_plan(architecture: str, regions: dict = AWS_HUB, hub: str = "aws/us-east-1", **keys: Any) -> Plan:
    return build_plan(validate(stackfile.decode(raw_config(architecture, regions, hub, **keys)), "test"))


def secret(value: Any) -> Any:
    """The plain value of a recorded input that must be a Pulumi secret."""
    plain, is_secret = mocks.unsecret(value)
    assert is_secret, f"not a secret: {value!r}"
    return plain
