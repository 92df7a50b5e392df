"""Fixtures for the API component tests: run a program under the shared mocks."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from infra.components import mocks
from tests.components.conftest import Registry


def run_program(program: Callable[[], Any]):
    """(Registry, mocks, value) of `program` under fresh mocks."""
    monitor, m, value = mocks.run(program)
    return Registry(monitor.registrations), m, value


@pytest.fixture
def run_api() -> Callable:
    return run_program
