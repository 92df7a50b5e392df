"""Fixtures for component tests: programs run under mocks (plans: tests/components/plans.py)."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from infra.components import mocks


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
