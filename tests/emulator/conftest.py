"""Real Apache Kafka brokers for the tier-4 tests, started and always stopped here.

Each test session fetches the jars if this clone has none yet, picks free
loopback ports, and keeps every broker's data under pytest's temporary
directory, so a running `./scripts/emulator` stack is never touched.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from emulator import jars, ports, stack
from emulator.errors import EmulatorError
from infra import stackfile
from infra.architectures import build_plan


def processes_under(root: Path) -> list[int]:
    """Pids of live processes whose command line mentions `root`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(root) in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(name="processes_under")
def processes_under_fixture():
    return processes_under


@pytest.fixture(scope="session")
def kafka_jars() -> Path:
    return jars.ensure(log=lambda m: print(m))


@pytest.fixture(scope="session")
def emulator_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emulator")


def up_on_free_ports(plan, root: Path, tries: int = 3) -> stack.Emulation:
    """Brings a plan up on free ports, choosing again if another run took them meanwhile."""
    for attempt in range(tries):
        try:
            return stack.up(plan, base_port=ports.free_base(stack.ports_needed(plan)), root=root, log=lambda m: None)
        except EmulatorError as e:
            if "already in use" not in str(e) or attempt == tries - 1:
                raise


def _running(stack_name: str, root: Path):
    plan = build_plan(stackfile.load(stack_name))
    emulation = None
    try:
        emulation = up_on_free_ports(plan, root)
        yield plan, emulation
    finally:
        was_up = stack.down(plan.config.stack, root=root, log=lambda m: None)
        assert processes_under(root / plan.config.stack) == []
        assert stack.load(plan.config.stack, root) is None
        if emulation is not None:
            assert was_up
            # Nothing listens any more. (A port may still sit in TIME_WAIT after
            # a broker restart or the workers' HTTP calls.)
            for port in [p for c in emulation.clusters.values() for p in (c.broker_port, c.controller_port)] + [
                    w.rest_port for w in emulation.workers.values()]:
                with socket.socket() as s:
                    assert s.connect_ex((ports.HOST, port)) != 0, port


@pytest.fixture(scope="session")
def dev_up(kafka_jars, emulator_root):
    """The dev stack (header-routing) on the emulator."""
    yield from _running("dev", emulator_root)


@pytest.fixture(scope="session")
def staging_up(kafka_jars, emulator_root):
    """The staging stack (topic-per-region) on the emulator."""
    yield from _running("staging", emulator_root)


@pytest.fixture(scope="session")
def prod_up(kafka_jars, emulator_root):
    """The prod stack (regional-clusters) on the emulator, MirrorMaker 2 included."""
    yield from _running("prod", emulator_root)
