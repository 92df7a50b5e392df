"""Fixtures for component tests: programs run under the mocks of `tests.support.mocks`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support import mocks


@pytest.fixture
def run() -> Callable[..., tuple[mocks.Registry, mocks.CloudMocks, Any]]:
    """run(program, config=None) -> (Registry, mocks, value): program under fresh mocks."""
    return mocks.run_registry
