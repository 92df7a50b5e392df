"""Fixtures for component tests: AWS-only configs and plans, run under mocks."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from infra.architectures import build_plan
from infra.components import mocks
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


@pytest.fixture
def run() -> Callable:
    """run(program) -> (registrations by name, mocks, value): program under fresh mocks."""

    def _run(program: Callable[[], Any], config: dict | None = None):
        monitor, m, value = mocks.run(program, config)
        return Registry(monitor.registrations), m, value

    return _run


class Registry:
    """The registrations of one run, with the look-ups tests need."""

    def __init__(self, registrations: list[mocks.Registration]):
        self.all = registrations
        self.by_urn = {r.urn: r for r in registrations}

    def of_type(self, type_: str) -> list[mocks.Registration]:
        return [r for r in self.all if r.type == type_]

    def one(self, type_: str) -> mocks.Registration:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, got {[r.name for r in found]}"
        return found[0]

    def named(self, name: str, type_: str) -> mocks.Registration:
        return next(r for r in self.all if r.name == name and r.type == type_)

    def provider_region(self, r: mocks.Registration) -> str:
        return self.by_urn[r.provider].inputs["region"]

    def ancestors(self, r: mocks.Registration) -> list[mocks.Registration]:
        out = []
        while r.parent in self.by_urn:
            r = self.by_urn[r.parent]
            out.append(r)
        return out
