"""Runs a program under the shared mocks for the API component tests.

Not a conftest.py: test modules elsewhere import `conftest` by that name.
"""

from __future__ import annotations

from typing import Any, Callable

from infra.components import mocks
from tests.components.conftest import Registry


def run_program(program: Callable[[], Any]):
    """(Registry, mocks, value) of `program` under fresh mocks."""
    monitor, m, value = mocks.run(program)
    return Registry(monitor.registrations), m, value
