"""Tier 4: `./scripts/emulator status` and `watch` show consumer and mirror lag of a running stack.

The stack runs under `.emulator/` as a user's would (a copy of the dev stack
file as regional-clusters, so it has MirrorMaker 2), on free ports, and is
always taken down again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from emulator import ports, stack
from emulator.traffic import run_traffic
from infra import access, stackfile
from infra.architectures import build_plan
from routing_client import RoutingConsumer
from tests.support.emulation import processes_under

ROOT = Path(__file__).resolve().parents[2]
NAME = "lagcli"
WAIT_S = 120


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


def test_status_and_watch_show_consumer_lag_per_region_and_mirror_lag_per_flow(tmp_path, kafka_jars):
    text = (
        stackfile.stack_path("dev")
        .read_text()
        .replace("architecture: header-routing", "architecture: regional-clusters")
    )
    path = tmp_path / f"Pulumi.{NAME}.yaml"
    path.write_text(text)
    plan = build_plan(stackfile.load(NAME, path))
    base = ports.free_base(stack.ports_needed(plan))
    try:
        assert _run("up", str(path), "--base-port", str(base)).returncode == 0
        running = stack.load(NAME)
        run_traffic(plan, running.bootstrap(), 60, clients=running.clients(plan), timeout=60)
        # A group that read nothing yet but committed its start: its lag is everything on the topic.
        region = next(k for k in plan.routing if k != plan.config.hub.key)
        contract = plan.routing[region].to_dict()
        group = f"{access.group_prefix(plan.config.regions[region])}lagcli-{uuid.uuid4().hex[:6]}"
        consumer = RoutingConsumer(
            contract, running.bootstrap(), group, config={"log_level": 0, **running.client(region)}
        )
        try:
            deadline = time.monotonic() + WAIT_S
            got = None
            while got is None:
                assert time.monotonic() < deadline, "no message reached the region"
                got = consumer.poll(0.5)
            consumer.confirm(got)
            consumer.commit()
        finally:
            consumer.close()

        deadline = time.monotonic() + WAIT_S
        while True:
            out = _run("status", str(path), "--json")
            assert out.returncode == 0, out.stderr
            doc = json.loads(out.stdout)
            if doc["mirrorLag"] and all(v == 0 for v in doc["mirrorLag"].values()):
                break
            assert time.monotonic() < deadline, f"mirror lag never reached 0: {doc['mirrorLag']}"
            time.sleep(1)
        assert set(doc["mirrorLag"]) == set(plan.mirrors)
        mine = [g for g in doc["consumerLag"] if g["group"] == group]
        assert len(mine) == 1 and mine[0]["region"] == region and mine[0]["lag"] >= 0

        # A region's own login, as `credentials` prints it, is the one its services used.
        out = _run("credentials", str(path), region)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {region: running.client(region)}
        out = _run("credentials", str(path), "mars/1")
        assert out.returncode == 1 and "has no region mars/1" in out.stderr

        out = _run("status", str(path))
        assert "Consumer lag" in out.stdout and "Mirror lag" in out.stdout and group in out.stdout
        out = _run("watch", str(path), "--interval", "0.2", "--count", "2")
        assert out.returncode == 0, out.stderr
        assert out.stdout.count("Consumer lag") == 2
    finally:
        stack.down(NAME, log=lambda m: None)
        assert processes_under(stack.DATA / NAME) == []
        shutil.rmtree(stack.DATA / NAME, ignore_errors=True)
