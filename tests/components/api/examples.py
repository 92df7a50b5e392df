"""Example stacks with the api key, shared by the pure and the mocks tests."""

from __future__ import annotations

import json
from typing import Any

from infra.architectures import build_plan
from infra.config import validate
from infra.stackfile import decode

AWS_REGIONS = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "aws/eu-west-1": {"cidr": "10.30.0.0/16"},
}
MIXED_REGIONS = {
    "aws/us-east-1": {"cidr": "10.10.0.0/16"},
    "gcp/europe-west1": {"cidr": "10.30.0.0/16"},
    "gcp/asia-southeast1": {"cidr": "10.40.0.0/16"},
}
LISTENER = "arn:aws:elasticloadbalancing:{region}:111122223333:listener/app/orders/50dc6c495c0c9188/f2f7dc8efc522ab2"
CLOUD_MAP = "arn:aws:servicediscovery:{region}:111122223333:service/srv-e4anhexample0004"
NEG = "projects/acme-streaming/zones/{region}-b/networkEndpointGroups/orders"


def aws_backend(region: str, **extra: Any) -> dict[str, Any]:
    return {"listenerArn": LISTENER.format(region=region), "port": 443, **extra}


def gcp_backend(region: str, proxy: str, **extra: Any) -> dict[str, Any]:
    return {"networkEndpointGroups": [NEG.format(region=region)], "port": 8443, "proxyCidr": proxy, **extra}


def api_key(backends: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"zone": "example.com", "hostname": "api", "backends": backends, **extra}


def raw(regions: dict, api_value: dict | None, architecture: str = "topic-per-region") -> dict[str, Any]:
    out = {
        "gcp:project": "acme-streaming",
        "multicloud-kafka:architecture": architecture,
        "multicloud-kafka:hub": "aws/us-east-1",
        "multicloud-kafka:protect": "false",
        "multicloud-kafka:regions": json.dumps(regions),
        "multicloud-kafka:events": json.dumps({"create_account": {}}),
    }
    if api_value is not None:
        out["multicloud-kafka:api"] = json.dumps(api_value)
    return out


def plans(regions: dict, api_value: dict | None, architecture: str = "topic-per-region"):
    """(Plan, ApiPlan) of a stack, validated the way the program does it."""
    cfg = validate(decode(raw(regions, api_value, architecture)), "test")
    plan = build_plan(cfg)
    return plan, plan.api
