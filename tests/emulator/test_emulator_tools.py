"""Tier 4: the local tools (emulator, demo, compare) on the problems users met, each said in one line.

Stacks here run under `.emulator/` as a user's would, each from a copy of the
dev stack file under a name of its own, on free ports, and are always taken
down again.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import jars, ports, stack
from emulator.traffic import MAX_SIZE, run_traffic
from infra import stackfile
from infra.architectures import build_plan
from tests.support.emulation import processes_under, run_python

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120


def _run(module: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return run_python("-m", module, *args, timeout=timeout)


def _one_line_error(out: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    assert out.returncode == code, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0]


def _stack_file(tmp_path: Path, name: str, architecture: str | None = None) -> Path:
    text = stackfile.stack_path("dev").read_text()
    if architecture:
        text = text.replace("architecture: header-routing", f"architecture: {architecture}")
        assert architecture in text
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def cli_stack(tmp_path, kafka_jars) -> Iterator[callable]:
    """Makes stack files whose stacks this test may bring up under .emulator/; takes them all down after."""
    made: list[str] = []

    def make(name: str, architecture: str | None = None) -> tuple[Path, int]:
        path = _stack_file(tmp_path, name, architecture)
        made.append(name)
        return path, ports.free_base(stack.ports_needed(build_plan(stackfile.load(name, path))))

    yield make
    for name in made:
        stack.down(name, log=lambda m: None)
        assert processes_under(stack.DATA / name) == []
        shutil.rmtree(stack.DATA / name, ignore_errors=True)


def test_a_port_left_in_time_wait_is_free_but_a_listener_is_not():
    """What a broker killed with clients connected leaves: its port in TIME_WAIT, which a new broker can take."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((ports.HOST, 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection((ports.HOST, port))
        served, _ = listener.accept()
        assert ports.in_use(port)
        # The server side closes first, as a killed broker's kernel does: its end waits in TIME_WAIT.
        served.close()
        time.sleep(0.1)
        client.close()
    assert "TIME_WAIT" in _socket_states(port) or _socket_states(port) == set()
    assert not ports.in_use(port)


def _socket_states(port: int) -> set[str]:
    states = {"06": "TIME_WAIT", "0A": "LISTEN", "01": "ESTABLISHED"}
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if int(local.split(":")[1], 16) == port:
            found.add(states.get(state, state))
    return found


@pytest.mark.parametrize(
    "module, args, code, fragments",
    [
        ("emulator", ["up", "dev", "--base-port", "70000"], 1, ["--base-port 70000 is out of range", "1024 to 65534"]),
        ("emulator", ["up", "dev", "--base-port", "80"], 1, ["--base-port 80 is out of range", "needs root"]),
        ("emulator.demo", ["dev", "--base-port", "65535"], 2, ["--base-port 65535 is out of range"]),
        ("emulator", ["restart", "dev", "aws/us-east-1", "--down", "nan"], 1, ["--down nan", "finite number"]),
        ("emulator.demo", ["dev", "--size", "2000000"], 2, ["--size 2000000", f"use 1 to {MAX_SIZE}"]),
        ("emulator.demo", ["dev", "--rate", "nan"], 2, ["--rate nan"]),
        ("infra.cli", ["compare", "dev", "--rate", "nan"], 2, ["--rate nan", "finite number"]),
        ("infra.cli", ["compare", "dev", "--rate", "-5"], 2, ["--rate -5.0"]),
        ("infra.cli", ["compare", "dev", "--rate", "inf"], 2, ["--rate inf"]),
        ("infra.cli", ["compare", "dev", "--size", "-1"], 2, ["--size -1"]),
        (
            "infra.cli",
            ["compare", "dev", "--prices", "/nonexistent/prices.yaml"],
            2,
            ["/nonexistent/prices.yaml", "cannot be read (No such file or directory)"],
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bad_arguments_are_one_line_errors(module, args, code, fragments):
    _one_line_error(_run(module, *args), code, *fragments)


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("aws.crossCloudPerGb: [0.09,\n", ["is not valid YAML"]),
        ("- aws.crossCloudPerGb\n", ["must be a YAML map"]),
        ("aws.crossCloudPerGb: .nan\n", ["aws.crossCloudPerGb = nan", "must be a number of USD"]),
        ("aws.crossCloudPerGb: true\n", ["must be a number of USD"]),
        ("aws.crossCloudPerGb: \xff\n", []),
    ],
    ids=["yaml", "list", "nan", "bool", "latin-1"],
)
def test_a_malformed_prices_file_is_a_one_line_error(tmp_path, text, fragments):
    path = tmp_path / "prices.yaml"
    path.write_bytes(text.encode("latin-1"))
    _one_line_error(_run("infra.cli", "compare", "dev", "--prices", str(path)), 2, str(path), *fragments)


@pytest.mark.parametrize("module", ["emulator", "emulator.demo"])
def test_a_stack_file_that_is_not_utf8_is_a_one_line_error(tmp_path, module):
    path = tmp_path / "Pulumi.latin.yaml"
    path.write_bytes(stackfile.stack_path("dev").read_bytes().replace(b"# ", "# caf\xe9 ".encode("latin-1"), 1))
    args = ["up", str(path)] if module == "emulator" else [str(path)]
    _one_line_error(_run(module, *args), 1, str(path), "is not UTF-8", "save it as UTF-8")
    assert processes_under(stack.DATA / "latin") == []


def test_an_emulator_directory_that_cannot_be_written_is_a_one_line_error(tmp_path):
    """Something in the way of the stack's directory (running as root, permissions would not stop a write)."""
    path = _stack_file(tmp_path, "blocked")
    stack.DATA.mkdir(exist_ok=True)
    blocker = stack.DATA / "blocked"
    blocker.write_text("not a directory")
    try:
        out = _run("emulator", "up", str(path), "--base-port", str(ports.free_base(2)))
    finally:
        blocker.unlink()
    _one_line_error(out, 1, f"cannot write the stack's data directory {blocker}", "writable directory")
    assert processes_under(blocker) == []


def test_the_demo_paces_low_rates(dev_up):
    """At 20 msg/s, 30 messages take at least 29/20 s to send (before, poll() returning early sent them at once)."""
    plan, emulation = dev_up
    result = run_traffic(plan, emulation.bootstrap(), 30, clients=emulation.clients(plan), seed=3, rate=20, timeout=30)
    assert result.ok
    assert result.send_s >= 29 / 20


def test_the_demo_sends_messages_of_the_largest_size_it_accepts(dev_up):
    plan, emulation = dev_up
    result = run_traffic(
        plan, emulation.bootstrap(), 3, clients=emulation.clients(plan), seed=3, size=MAX_SIZE, timeout=30
    )
    assert result.ok and result.delivery_failures == 0


def test_up_right_after_a_broker_was_killed_is_not_refused_for_time_wait(cli_stack):
    path, base = cli_stack("toolswait")
    assert _run("emulator", "up", str(path), "--base-port", str(base)).returncode == 0
    running = stack.load("toolswait")
    # Clients connected, then the broker killed: its side of each connection waits in TIME_WAIT.
    plan = build_plan(stackfile.load("toolswait", path))
    run_traffic(plan, running.bootstrap(), 50, clients=running.clients(plan), timeout=30)
    for c in running.clusters.values():
        os.kill(c.pid, signal.SIGKILL)
    out = _run("emulator", "up", str(path), "--base-port", str(base))
    assert out.returncode == 0, out.stderr
    assert all(stack.load("toolswait").alive().values())


def test_the_demo_leaves_a_stack_it_did_not_start_alone_and_restart_brings_a_killed_broker_back(cli_stack):
    path, base = cli_stack("toolspart", "regional-clusters")
    assert _run("emulator", "up", str(path), "--base-port", str(base)).returncode == 0
    running = stack.load("toolspart")
    spoke = next(k for k in running.clusters if k != "aws/us-east-1")
    os.kill(running.clusters[spoke].pid, signal.SIGKILL)
    time.sleep(0.5)
    before = set(processes_under(stack.DATA / "toolspart"))

    out = _run("emulator.demo", str(path), "-n", "20")
    _one_line_error(
        out, 1, "only partly up", f"the broker of {spoke} not running", f"./scripts/emulator restart toolspart {spoke}"
    )
    assert set(processes_under(stack.DATA / "toolspart")) == before

    out = _run("emulator", "restart", str(path), spoke)
    assert out.returncode == 0, out.stderr
    assert "is not running" in out.stderr and f"the broker of {spoke} in stack 'toolspart' is up again" in out.stdout
    running = stack.load("toolspart")
    assert all(running.alive().values()) and all(running.workers_alive().values())

    # A clean drill in one command: killed, down two seconds, back on its data.
    out = _run("emulator", "restart", str(path), spoke, "--kill", "--down", "2")
    assert out.returncode == 0 and "killing the broker" in out.stderr, out.stderr
    out = _run("emulator.demo", str(path), "-n", "40", "--rate", "0")
    assert out.returncode == 0, out.stderr
    assert "already up" in out.stderr and "stopping" not in out.stderr
    running = stack.load("toolspart")
    assert all(running.alive().values()) and all(running.workers_alive().values())


def test_a_demo_stopped_by_sigterm_stops_what_it_started(cli_stack):
    path, base = cli_stack("toolsterm")
    demo = subprocess.Popen(
        [sys.executable, "-m", "emulator.demo", str(path), "-n", "100000", "--rate", "500", "--base-port", str(base)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert demo.stderr is not None
        deadline = time.monotonic() + WAIT_S
        lines = []
        while not any(line.startswith("  sent ") for line in lines):
            assert time.monotonic() < deadline and demo.poll() is None, "".join(lines)
            lines.append(demo.stderr.readline())
        assert processes_under(stack.DATA / "toolsterm") != []
        demo.send_signal(signal.SIGTERM)
        rest = demo.communicate(timeout=60)[1]
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 143, rest
    assert "stopping stack 'toolsterm'" in rest and rest.strip().endswith("terminated")
    assert processes_under(stack.DATA / "toolsterm") == []
    assert stack.load("toolsterm") is None


def test_a_damaged_jar_cache_is_detected_by_checksum_and_fetched_again(tmp_path, monkeypatch, kafka_jars):
    # A fresh clone has no .cache directory at all: the first fetch makes it.
    cache = tmp_path / "fresh-clone" / ".cache"
    monkeypatch.setattr(jars, "CACHE", cache)
    logged: list[str] = []
    target = jars.ensure(logged.append)
    assert target.parent == cache and jars.damage() is None
    names = sorted(p.name for p in target.glob("*.jar"))
    assert names == sorted(p.name for p in kafka_jars.glob("*.jar"))

    # Same size, one byte altered: only the checksum tells.
    victim = target / "kafka-clients-4.1.1.jar"
    original = victim.read_bytes()
    altered = bytearray(original)
    altered[len(altered) // 2] ^= 0xFF
    victim.write_bytes(bytes(altered))
    assert jars.damage() == "kafka-clients-4.1.1.jar does not match its SHA-256 checksum"
    (target / names[0]).write_bytes((target / names[0]).read_bytes()[:1000])
    assert "has 1000 bytes instead of" in (jars.damage() or "")

    logged.clear()
    assert jars.ensure(logged.append) == target
    assert jars.damage() is None and victim.read_bytes() == original
    assert logged[0].startswith(f"the Kafka jars in {target} are damaged ({names[0]} has 1000 bytes")
