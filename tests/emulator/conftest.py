"""Real Apache Kafka brokers for the kafka tier, started and always stopped here.

Each test session fetches the jars if this clone has none yet, picks free
loopback ports, and keeps every broker's data under pytest's temporary
directory, so a running `./scripts/emulator` stack is never touched.

The repo's three stacks are shared by every module that asks for them, and an
idle stack still costs CPU (its brokers and MirrorMaker 2 workers poll each
other), so the modules that use them run first, grouped by stack, and each
stack is stopped right after the last test that needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import jars, stack
from infra.plan import Plan
from tests.support.emulation import SharedStacks

# The shared stacks, in the order they are released: the modules that use
# staging run first, then those that use prod, then those that use dev.
SHARED = {"staging_up": "staging", "prod_up": "prod", "dev_up": "dev"}
# Where the teardown hook finds the session's SharedStacks, once a test has asked for one.
STACKS = pytest.StashKey[SharedStacks]()


def _shared_used_by(item: pytest.Item) -> set[str]:
    """The shared-stack fixtures a test uses, directly or through a parameter naming one."""
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        names |= {v for v in callspec.params.values() if isinstance(v, str)}
    return names & set(SHARED)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules that use a shared stack first, grouped by the stack released first; each module's own order kept."""
    order = list(SHARED)
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)

    def rank(path: str) -> int:
        if not path.startswith("tests/emulator/"):
            return -1
        used = set().union(*(_shared_used_by(i) for i in modules[path]))
        return min((order.index(u) for u in used), default=len(order))

    items[:] = [i for path in sorted(modules, key=rank) for i in modules[path]]


@pytest.fixture(scope="session")
def kafka_jars() -> Path:
    return jars.ensure(log=print)


@pytest.fixture(scope="session")
def emulator_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emulator")


@pytest.fixture(scope="session")
def shared_stacks(kafka_jars, emulator_root) -> Iterator[SharedStacks]:
    stacks = SharedStacks(emulator_root)
    try:
        yield stacks
    finally:
        stacks.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield
    stacks = item.session.stash.get(STACKS, None)
    if stacks is None:
        return
    still_needed = set().union(*(_shared_used_by(i) for i in _rest(item)))
    for fixture in set(SHARED) - still_needed:
        stacks.release(SHARED[fixture])


def _rest(item: pytest.Item) -> list[pytest.Item]:
    """The tests of this session that run after `item`."""
    items = item.session.items
    return items[items.index(item) + 1 :]


def _shared(request: pytest.FixtureRequest, fixture: str) -> tuple[Plan, stack.Emulation]:
    stacks: SharedStacks = request.getfixturevalue("shared_stacks")
    request.session.stash[STACKS] = stacks
    return stacks.get(SHARED[fixture])


@pytest.fixture
def dev_up(request):
    """The dev stack (header-routing) on the emulator."""
    return _shared(request, "dev_up")


@pytest.fixture
def staging_up(request):
    """The staging stack (topic-per-region) on the emulator."""
    return _shared(request, "staging_up")


@pytest.fixture
def prod_up(request):
    """The prod stack (regional-clusters) on the emulator, MirrorMaker 2 included."""
    return _shared(request, "prod_up")
