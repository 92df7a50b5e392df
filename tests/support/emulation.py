"""Real Kafka for the `kafka` tier: a stack's plan up on free loopback ports, and always down again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from emulator import ports, stack
from emulator.errors import EmulatorError
from infra import stackfile
from infra.architectures import build_plan
from infra.config import Config, validate
from infra.plan import Plan


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


def up_on_free_ports(plan: Plan, root: Path, tries: int = 3) -> stack.Emulation:
    """Brings a plan up on free ports, choosing again if another run took them meanwhile."""
    attempt = 1
    while True:
        try:
            return stack.up(plan, base_port=ports.free_base(stack.ports_needed(plan)), root=root, log=lambda m: None)
        except EmulatorError as e:
            if "already in use" not in str(e) or attempt >= tries:
                raise
            attempt += 1


def with_standby(stack_name: str, standby: str, **keys: object) -> Config:
    """A stack file's config with a standby hub in region `standby` (and other `multicloud-kafka:` keys), named
    `<stack>-standby` so that its emulator data never meets the stack file's own."""
    raw = stackfile.read(stackfile.stack_path(stack_name))
    raw["multicloud-kafka:standbyHub"] = standby
    raw.update({f"multicloud-kafka:{k}": v for k, v in keys.items()})
    return validate(raw, f"{stack_name}-standby")


def running(stack_name: str | Config, root: Path) -> Iterator[tuple[Plan, stack.Emulation]]:
    """(plan, emulation) of a stack file's (or a config's) plan, up under `root` until the generator is closed;
    then all stopped."""
    plan = build_plan(stackfile.load(stack_name) if isinstance(stack_name, str) else stack_name)
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
                w.rest_port for w in emulation.workers.values()
            ]:
                with socket.socket() as s:
                    assert s.connect_ex((ports.HOST, port)) != 0, port


class SharedStacks:
    """The repo's stacks, brought up on first request and stopped on release."""

    def __init__(self, root: Path):
        self.root = root
        # name -> (the running() generator that stops it, what it yielded)
        self._up: dict[str, tuple[Iterator[tuple[Plan, stack.Emulation]], tuple[Plan, stack.Emulation]]] = {}

    def get(self, name: str) -> tuple[Plan, stack.Emulation]:
        if name not in self._up:
            gen = running(name, self.root)
            self._up[name] = (gen, next(gen))
        return self._up[name][1]

    def release(self, name: str) -> None:
        """Stops the stack (and checks that nothing of it is left running)."""
        if name in self._up:
            next(self._up.pop(name)[0], None)

    def close(self) -> None:
        errors = []
        for name in list(self._up):
            try:
                self.release(name)
            except Exception as e:  # every stack is stopped; the first failure is raised after
                errors.append(e)
        if errors:
            raise errors[0]


def run_python(*argv: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python <argv>` with this interpreter from the repository root, the repository on the path."""
    return subprocess.run(
        [sys.executable, *argv],
        cwd=stackfile.ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(stackfile.ROOT)},
        check=False,
    )
