"""Kafka tier: bring-up of a multi-cluster plan, clean stop, and bad input that starts nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import ports, stack
from emulator.cli import connector_states
from emulator.errors import EmulatorError
from infra import mirrormaker, stackfile
from infra.architectures import build_plan
from tests.support.emulation import processes_under

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict | None = None, module: str = "emulator") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture
def stack_copy(tmp_path) -> Path:
    """The dev stack file under another stack name, so no real stack is touched."""
    path = tmp_path / "Pulumi.emutest.yaml"
    path.write_text(stackfile.stack_path("dev").read_text())
    return path


def test_prod_plan_comes_up_as_one_broker_per_cluster_and_a_mirror_worker_per_target(prod_up, emulator_root):
    """The clean stop (every process gone, every port free) is checked when the session's prod_up ends."""
    plan, emulation = prod_up
    assert list(emulation.clusters) == list(plan.clusters)
    assert set(emulation.workers) == {f.target for f in plan.mirrors.values()}
    assert all(emulation.alive().values()) and all(emulation.workers_alive().values())
    assert len(set(processes_under(emulator_root / "prod"))) == len(plan.clusters) + len(emulation.workers)
    for key, c in emulation.clusters.items():
        assert stack.topics_on(c.bootstrap, emulation.admin()) == set(plan.topics[key])
    states = connector_states(emulation)
    for flow in plan.mirrors.values():
        for name in mirrormaker.connector_names(flow).values():
            assert name in emulation.workers[flow.target].connectors
            assert states[name]["state"] == "RUNNING"
            assert all(t == "RUNNING" for t in states[name]["tasks"])


def test_a_stack_file_with_errors_fails_before_anything_starts(tmp_path):
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text(stackfile.stack_path("dev").read_text().replace("10.30.0.0/16", "8.8.8.0/24"))
    for module in ("emulator", "emulator.demo"):
        args = ("up", str(bad)) if module == "emulator" else (str(bad),)
        out = _cli(*args, module=module)
        assert out.returncode == 2, out.stderr
        assert "gcp/europe-west1.cidr" in out.stderr and "8.8.8.0/24" in out.stderr
    assert not (stack.DATA / "broken").exists()
    assert processes_under(stack.DATA / "broken") == []


def test_a_port_in_use_is_named_and_nothing_starts(stack_copy, kafka_jars):
    with socket.socket() as holder:
        holder.bind((ports.HOST, 0))
        holder.listen()
        taken = holder.getsockname()[1]
        out = _cli("up", str(stack_copy), "--base-port", str(taken))
    assert out.returncode == 1
    # The next port may be busy too (it is an ephemeral one): then both are named.
    assert f"{taken} (for aws/us-east-1)" in out.stderr and "already in use" in out.stderr
    assert "--base-port" in out.stderr
    assert processes_under(stack.DATA / "emutest") == []
    assert stack.load("emutest") is None


def test_a_port_taken_after_the_check_stops_everything_it_started(kafka_jars, tmp_path, monkeypatch):
    """The race the port check cannot see: the broker dies, the error says why."""
    plan = build_plan(stackfile.load("staging"))
    monkeypatch.setattr(ports, "busy", lambda ps: [])
    with socket.socket() as holder:
        holder.bind((ports.HOST, 0))
        holder.listen()
        with pytest.raises(EmulatorError, match="stopped while starting"):
            stack.up(plan, base_port=holder.getsockname()[1], root=tmp_path, log=lambda m: None)
    assert processes_under(tmp_path) == []
    assert stack.load("staging", tmp_path) is None


def test_a_missing_jdk_is_said_plainly_and_nothing_starts(stack_copy, tmp_path):
    no_java = {"PATH": str(Path(sys.executable).parent), "JAVA_HOME": ""}
    out = _cli("up", str(stack_copy), env=no_java)
    assert out.returncode == 1
    assert "needs Java" in out.stderr and "no java on PATH" in out.stderr and "JDK 17" in out.stderr
    out = _cli("up", str(stack_copy), env={"JAVA_HOME": str(tmp_path)})
    assert out.returncode == 1 and f"JAVA_HOME={tmp_path} has no bin/java" in out.stderr
    assert processes_under(stack.DATA / "emutest") == []
