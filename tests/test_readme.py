"""The README's commands and examples work as written."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from infra.architectures import build_plan
from infra.config import validate

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
COMMANDS = [line.split("#")[0].strip() for block in SH_BLOCKS for line in block.splitlines()
            if line.strip().startswith("./scripts/")]
# Quick and offline: run exactly as written. The rest (demo, emulator,
# benchmarks, the suite itself) are run by their own tests.
RUN_AS_WRITTEN = ("./scripts/plan", "./scripts/compare", "./scripts/diagram")


def test_set_up_has_exactly_the_two_commands():
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", setup, re.S)
    assert len(block) == 1
    assert [line.split("#")[0].strip() for line in block[0].strip().splitlines()] == [
        "./scripts/demo dev", "./scripts/test"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_script_named_exists(command):
    script = ROOT / shlex.split(command)[0]
    assert script.is_file() and script.stat().st_mode & 0o111, f"{script} is not an executable script"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.startswith(RUN_AS_WRITTEN)])
def test_quick_commands_run_as_written(command):
    if "--against HEAD" in command:
        stack = shlex.split(command)[1]
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", f"stacks/Pulumi.{stack}.yaml"], cwd=ROOT)
        if dirty.returncode:
            pytest.skip("the stack file has uncommitted changes")
    done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_stack_file_example_validates_and_plans():
    examples = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]
    stacks = [e["config"] for e in examples if isinstance(e, dict) and "config" in e]
    assert stacks
    for config in stacks:
        plan = build_plan(validate(config, "readme"))
        assert set(plan.routing) == set(config["multicloud-kafka:regions"])
