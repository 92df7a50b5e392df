"""The whole program (`__main__.py`) under the mocks, as the stack and policy tests run it."""

from __future__ import annotations

import runpy
from typing import Any

from infra import stackfile
from infra.architectures import build_plan
from infra.components.base import RealizationError
from infra.config import validate
from infra.plan import Plan
from tests.support import mocks
from tests.support.stacks import MAIN


def run_main(
    config: dict[str, str], stack: str = "test"
) -> tuple[list[mocks.Registration], Any, RealizationError | None]:
    """(registrations, outputs, RealizationError or None) of __main__.py under mocks."""
    refused: list[RealizationError] = []

    def program() -> Any:
        try:
            a = runpy.run_path(str(MAIN))["architecture"]
        except RealizationError as e:
            refused.append(e)
            return None
        return {"hubBootstrap": a.hub_bootstrap, "regions": a.regions, "monitoring": a.monitoring, "access": a.access}

    monitor, _, outputs = mocks.run(program, config, stack)
    return monitor.registrations, outputs, (refused[0] if refused else None)


def plan_of(config: dict[str, str], stack: str = "test") -> Plan:
    return build_plan(validate(stackfile.decode(config), stack))


def of_type(registrations: list[mocks.Registration], type_: str) -> list[mocks.Registration]:
    return [r for r in registrations if r.type == type_]
