"""Tier 4: bring-up of a multi-cluster plan, clean stop, and bad input that starts nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import ports, stack
from emulator.errors import EmulatorError
from infra import stackfile
from infra.architectures import build_plan

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict | None = None, module: str = "emulator") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture
def stack_copy(tmp_path) -> Path:
    """The dev stack file under another stack name, so no real stack is touched."""
    path = tmp_path / "Pulumi.emutest.yaml"
    path.write_text(stackfile.stack_path("dev").read_text())
    return path


def test_prod_plan_comes_up_as_one_broker_per_cluster_and_stops_cleanly(kafka_jars, emulator_root, processes_under):
    plan = build_plan(stackfile.load("prod"))
    base = ports.free_base(2 * len(plan.clusters))
    home = emulator_root / "prod"
    try:
        emulation = stack.up(plan, base_port=base, root=emulator_root, log=lambda m: None)
        assert list(emulation.clusters) == list(plan.clusters)
        assert all(emulation.alive().values())
        assert len(set(processes_under(home))) == len(plan.clusters)
        for key, c in emulation.clusters.items():
            assert stack.topics_on(c.bootstrap) == set(plan.topics[key])
    finally:
        was_up = stack.down("prod", root=emulator_root, log=lambda m: None)
    assert was_up
    assert processes_under(home) == []
    assert stack.load("prod", emulator_root) is None
    assert not ports.busy(range(base, base + 2 * len(plan.clusters)))


def test_a_stack_file_with_errors_fails_before_anything_starts(tmp_path, processes_under):
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text(stackfile.stack_path("dev").read_text().replace("10.30.0.0/16", "8.8.8.0/24"))
    for module in ("emulator", "emulator.demo"):
        args = ("up", str(bad)) if module == "emulator" else (str(bad),)
        out = _cli(*args, module=module)
        assert out.returncode == 2, out.stderr
        assert "gcp/europe-west1.cidr" in out.stderr and "8.8.8.0/24" in out.stderr
    assert not (stack.DATA / "broken").exists()
    assert processes_under(stack.DATA / "broken") == []


def test_a_port_in_use_is_named_and_nothing_starts(stack_copy, kafka_jars, processes_under):
    with socket.socket() as holder:
        holder.bind((ports.HOST, 0))
        holder.listen()
        taken = holder.getsockname()[1]
        out = _cli("up", str(stack_copy), "--base-port", str(taken))
    assert out.returncode == 1
    assert f"port {taken} (for aws/us-east-1) already in use" in out.stderr and "--base-port" in out.stderr
    assert processes_under(stack.DATA / "emutest") == []
    assert stack.load("emutest") is None


def test_a_port_taken_after_the_check_stops_everything_it_started(kafka_jars, tmp_path, monkeypatch, processes_under):
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


def test_a_missing_jdk_is_said_plainly_and_nothing_starts(stack_copy, tmp_path, processes_under):
    no_java = {"PATH": str(Path(sys.executable).parent), "JAVA_HOME": ""}
    out = _cli("up", str(stack_copy), env=no_java)
    assert out.returncode == 1
    assert "needs Java" in out.stderr and "no java on PATH" in out.stderr and "JDK 17" in out.stderr
    out = _cli("up", str(stack_copy), env={"JAVA_HOME": str(tmp_path)})
    assert out.returncode == 1 and f"JAVA_HOME={tmp_path} has no bin/java" in out.stderr
    assert processes_under(stack.DATA / "emutest") == []


def test_regional_clusters_demo_says_mirroring_is_missing_and_starts_nothing(processes_under):
    out = _cli("prod", module="emulator.demo")
    assert out.returncode == 3
    assert "regional-clusters needs MirrorMaker 2 mirroring" in out.stdout and "started nothing" in out.stdout
    assert processes_under(stack.DATA / "prod") == []
