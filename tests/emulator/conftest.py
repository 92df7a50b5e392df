"""Real Apache Kafka brokers for the kafka tier, started and always stopped here.

Each test session fetches the jars if this clone has none yet, picks free
loopback ports, and keeps every broker's data under pytest's temporary
directory, so a running `./scripts/emulator` stack is never touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import jars
from tests.support.emulation import running


@pytest.fixture(scope="session")
def kafka_jars() -> Path:
    return jars.ensure(log=print)


@pytest.fixture(scope="session")
def emulator_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emulator")


@pytest.fixture(scope="session")
def dev_up(kafka_jars, emulator_root):
    """The dev stack (header-routing) on the emulator."""
    yield from running("dev", emulator_root)


@pytest.fixture(scope="session")
def staging_up(kafka_jars, emulator_root):
    """The staging stack (topic-per-region) on the emulator."""
    yield from running("staging", emulator_root)


@pytest.fixture(scope="session")
def prod_up(kafka_jars, emulator_root):
    """The prod stack (regional-clusters) on the emulator, MirrorMaker 2 included."""
    yield from running("prod", emulator_root)
