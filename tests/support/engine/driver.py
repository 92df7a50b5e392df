"""The real Pulumi engine running the project's program (test support only).

`EngineBed` runs the pinned CLI (`scripts/pulumi --path`) through the
Automation API with the program inline (`infra.components.program.main`),
so the test process is the language host and only the CLI is needed. Each
bed has its own temp dir: a local file backend (`file://`), `PULUMI_HOME`,
the passphrase secrets provider, and a copy of the repo's `Pulumi.yaml` and
`stacks/` so the stacks read the repo's own stack files without the engine
writing into them. Providers are the stand-ins of `standin.py`, attached
through `PULUMI_DEBUG_PROVIDERS`; with `MCK_ENGINE_PROVIDERS=installed` the
bed uses the provider plugins installed in `PULUMI_HOME` instead (a machine
with plugins and cloud credentials; the ledger is then empty).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from infra import stackfile
from infra.architectures import build_plan
from infra.components.program import main
from infra.plan import Plan
from infra.stackfile import ROOT
from tests.support.engine import kafka
from tests.support.engine.expected import same_identity

PROJECT = "multicloud-kafka"
PASSPHRASE = "engine-tests-only"
# Seconds the stand-ins get to print their ports.
STANDIN_START_S = 60


def cli_path() -> Path:
    """The CLI `./scripts/pulumi` runs; builds the pinned one first when there is none (progress on stderr)."""
    out = subprocess.run([str(ROOT / "scripts" / "pulumi"), "--path"], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip())


def real_providers() -> bool:
    return os.environ.get("MCK_ENGINE_PROVIDERS") == "installed"


@dataclass(frozen=True)
class Step:
    op: str
    type: str
    urn: str


@dataclass
class Run:
    """What one engine operation did: its steps in order."""

    steps: list[Step] = field(default_factory=list)

    def changed(self) -> list[Step]:
        """Every step other than `same`."""
        return [s for s in self.steps if s.op != "same"]

    def counts(self) -> dict[str, Counter[str]]:
        """op -> resource type -> count, for the steps that change something."""
        out: dict[str, Counter[str]] = {}
        for s in self.changed():
            out.setdefault(s.op, Counter())[s.type] += 1
        return out


class Failed(Exception):
    """An engine operation failed; carries what it did before failing."""

    def __init__(self, run: Run, error: Exception):
        super().__init__(str(error))
        self.run = run
        self.error = error


class EngineBed:
    """Stand-in providers plus a temp workspace; stacks are created on demand."""

    def __init__(self, cli: Path | None = None) -> None:
        self.cli = cli or cli_path()
        self.dir = Path(tempfile.mkdtemp(prefix="mck-engine-"))
        self.work = self.dir / "project"
        self.work.mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", self.work / "Pulumi.yaml")
        shutil.copytree(ROOT / "stacks", self.work / "stacks")
        (self.dir / "state").mkdir()
        self.ledger = self.dir / "ledger.jsonl"
        self.ledger.touch()
        self.env = {
            "PULUMI_HOME": str(self.dir / "home"),
            "PULUMI_BACKEND_URL": f"file://{self.dir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            # The state is written once, when an operation ends (failed or not),
            # instead of after every step: what the tests read is the same, and
            # the file backend's per-step rewrite of a prod-sized state was
            # about half of the tier's engine CPU.
            "PULUMI_SKIP_CHECKPOINTS": "true",
        }
        self._standin: subprocess.Popen[str] | None = None
        if not real_providers():
            self.env["PULUMI_DEBUG_PROVIDERS"] = self._start_standins()
        self._stacks: dict[str, auto.Stack] = {}

    def _start_standins(self) -> str:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._standin = subprocess.Popen(
            [sys.executable, "-m", "tests.support.engine.standin", str(self.ledger)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self._standin.stdout is not None
        threading.Thread(target=lambda: lines.put(self._standin.stdout.readline()), daemon=True).start()
        try:
            ports = lines.get(timeout=STANDIN_START_S).strip()
        except queue.Empty:
            self.close()
            raise RuntimeError(f"stand-in providers printed no ports within {STANDIN_START_S} s") from None
        if not ports:
            raise RuntimeError(f"stand-in providers exited with {self._standin.wait(10)}")
        return ports

    def close(self) -> None:
        if self._standin is not None and self._standin.poll() is None:
            assert self._standin.stdin is not None
            self._standin.stdin.close()
            try:
                self._standin.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._standin.kill()
                self._standin.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def stack(self, name: str) -> auto.Stack:
        """The stack `name`, configured by its file under stacks/ (created empty on first use)."""
        if name not in self._stacks:
            opts = auto.LocalWorkspaceOptions(
                work_dir=str(self.work),
                pulumi_home=self.env["PULUMI_HOME"],
                env_vars=self.env,
                secrets_provider="passphrase",
                pulumi_command=auto.PulumiCommand(root=str(self.cli.parent.parent), skip_version_check=True),
            )
            self._stacks[name] = auto.create_or_select_stack(
                stack_name=name, project_name=PROJECT, program=main, opts=opts
            )
        return self._stacks[name]

    def stack_file(self, stack: str) -> Path:
        """The bed's copy of the stack's file, which `set_config` edits."""
        return self.work / "stacks" / f"Pulumi.{stack}.yaml"

    def add_stack_file(self, stack: str, like: str, **config: Any) -> None:
        """A stack file for `stack`: the repo's file of `like`, with `config` keys of the project replaced."""
        doc = yaml.safe_load(self.stack_file(like).read_text())
        doc["config"].update({f"{PROJECT}:{k}": v for k, v in config.items()})
        self.stack_file(stack).write_text(yaml.safe_dump(doc, sort_keys=False))

    def set_config(self, stack: str, key: str, value: str) -> None:
        self.stack(stack).set_config(f"{PROJECT}:{key}", auto.ConfigValue(value=value))

    def plan(self, stack: str) -> Plan:
        """The plan of the stack's config as the bed holds it now."""
        return build_plan(stackfile.load(stack, self.stack_file(stack)))

    def _operate(self, stack: str, op: str) -> Run:
        run = Run()

        def on_event(event: auto.EngineEvent) -> None:
            pre = event.resource_pre_event
            if pre is not None and pre.metadata.type != "pulumi:pulumi:Stack":
                run.steps.append(Step(str(pre.metadata.op.value), pre.metadata.type, pre.metadata.urn))

        try:
            getattr(self.stack(stack), op)(on_event=on_event, color="never")
        except auto.errors.CommandError as e:
            raise Failed(run, e) from None
        return run

    def up(self, stack: str) -> Run:
        return self._operate(stack, "up")

    def preview(self, stack: str) -> Run:
        return self._operate(stack, "preview")

    def destroy(self, stack: str) -> Run:
        return self._operate(stack, "destroy")

    def cli_json(self, stack: str, *args: str) -> Any:
        """`pulumi <args> --stack <stack>` run by the CLI itself, its stdout parsed as JSON."""
        out = subprocess.run(
            [str(self.cli), *args, "--stack", stack],
            cwd=self.work,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if out.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed: {out.stderr}")
        return json.loads(out.stdout)

    def ledger_entries(self) -> list[dict[str, str]]:
        """Every Create, Update and Delete the stand-ins received, in order."""
        return [json.loads(line) for line in self.ledger.read_text().splitlines() if line]

    def kafka_brokers(self) -> dict[str, str]:
        """Cluster (a kafka provider's sorted bootstrap servers) -> the loopback address of its stand-in broker."""
        path = self.dir / "kafka" / kafka.BROKERS_FILE
        listing = json.loads(path.read_text()) if path.exists() else {}
        return {cluster: b["address"] for cluster, b in listing.items()}

    def live(self) -> set[str]:
        """What exists in the stand-ins' cloud, by identity (`expected.same_identity`): created, never deleted."""
        out: set[str] = set()
        for e in self.ledger_entries():
            if e["op"] == "create":
                out.add(same_identity(e["urn"]))
            elif e["op"] == "delete":
                out.discard(same_identity(e["urn"]))
        return out

    def state(self, stack: str) -> list[dict[str, Any]]:
        """The resources of the stack's state, as `pulumi stack export` has them."""
        return list(self.cli_json(stack, "stack", "export")["deployment"].get("resources") or [])
