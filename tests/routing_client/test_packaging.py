"""The routing client installs and imports on its own, without the IaC."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_routing_client_installs_alone(tmp_path):
    # Built from a copy: setuptools writes build/ and egg-info beside the sources.
    src = tmp_path / "src"
    shutil.copytree(ROOT / "routing_client", src / "routing_client", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src / "pyproject.toml")
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info")) == ["routing_client"]
    # Typed for the services that import it; its README is the package's description.
    assert (target / "routing_client" / "py.typed").is_file()
    metadata = next(target.glob("*.dist-info")) / "METADATA"
    assert "## Consuming: at least once" in metadata.read_text()
    probe = (
        "import importlib.util, routing_client\n"
        f"assert routing_client.__file__.startswith({str(target)!r})\n"
        "assert importlib.util.find_spec('infra') is None\n"
        "print(sorted(routing_client.__all__))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "RoutingConsumer" in done.stdout and "RoutingProducer" in done.stdout and "DeliveryError" in done.stdout
