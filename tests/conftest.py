"""Fixtures every tier shares, and the tier of every test (see docs/test-tiers.md)."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest

from infra import stackfile

TESTS = Path(__file__).resolve().parent
# The tiers, fastest first; each is a marker registered in pytest.ini.
TIERS = ("plan", "mocks", "kafka", "engine")
# The tier of the tests under each top-level entry of tests/, unless a test
# or its module carries a tier marker of its own.
TIER_OF = {
    "plan": "plan",
    "routing_client": "plan",
    "test_readme.py": "plan",
    "components": "mocks",
    "stacks": "mocks",
    "policy": "mocks",
    "emulator": "kafka",
    "engine": "engine",
}


def pytest_configure(config: pytest.Config) -> None:
    # The scripts a test runs (./scripts/plan ...) use the interpreter running
    # the tests, with its packages, instead of making or updating a virtualenv.
    os.environ["MCK_IN_VENV"] = "1"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks each test with its directory's tier and runs the tiers fastest first.

    A test with no tier, or more than one, fails the collection.
    """
    tier_of: dict[str, str] = {}
    wrong = []
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        if not tiers:
            path = item.path.resolve()
            top = path.relative_to(TESTS).parts[0] if path.is_relative_to(TESTS) else ""
            if top in TIER_OF:
                tiers = {TIER_OF[top]}
                item.add_marker(TIER_OF[top])
        if len(tiers) == 1:
            tier_of[item.nodeid] = tiers.pop()
        else:
            wrong.append(f"{item.nodeid}: {', '.join(sorted(tiers)) or 'no tier'}")
    if wrong:
        raise pytest.UsageError(
            "every test needs exactly one tier marker of "
            + ", ".join(TIERS)
            + ":\n  "
            + "\n  ".join(wrong)
            + "\nput the test under a directory tests/conftest.py's TIER_OF names, or mark its module"
            " (pytestmark = pytest.mark.<tier>)"
        )
    # Stable: within a tier, tests keep pytest's order.
    items.sort(key=lambda item: TIERS.index(tier_of[item.nodeid]))


@pytest.fixture
def prod_raw():
    """The prod stack file's raw config, safe to mutate."""
    return copy.deepcopy(stackfile.read(stackfile.stack_path("prod")))
