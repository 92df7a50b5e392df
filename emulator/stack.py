"""Bringing a stack's Plan up and down on the emulator, and its recorded state.

`up` starts one broker per planned cluster and creates the planned topics;
the state (ports, pids, directories) is written to `<root>/<stack>/emulator.json`
as soon as a process exists, so `down` can always find what is running.

Mirror flows are not run yet. The jars of a Connect worker with MirrorMaker 2
are already in the pom; running it belongs after the topics are created, with
the connectors of `infra.mirrormaker` and the clusters' bootstrap addresses.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Mapping

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from emulator import jars, java, ports
from emulator.broker import FORMAT_TIMEOUT_S, Broker, is_our_process, stop
from emulator.errors import EmulatorError
from emulator.topics import EmulatedTopic, emulated_topics
from infra import naming
from infra.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".emulator"
STATE = "emulator.json"
READY_TIMEOUT_S = 60
TOPICS_TIMEOUT_S = 30

Log = Callable[[str], None]
# The emulator's own clients retry while brokers start; only errors are news.
QUIET = {"log_level": 3}


@dataclass(frozen=True)
class RunningCluster:
    key: str
    name: str
    bootstrap: str
    broker_port: int
    controller_port: int
    pid: int
    dir: str


@dataclass(frozen=True)
class Emulation:
    """A stack as it runs on the emulator."""

    stack: str
    architecture: str
    clusters: Mapping[str, RunningCluster]

    def bootstrap(self) -> dict[str, str]:
        """cluster key -> bootstrap address, the shape the routing client takes."""
        return {k: c.bootstrap for k, c in self.clusters.items()}

    def alive(self) -> dict[str, bool]:
        return {k: is_our_process(c.pid, Path(c.dir)) for k, c in self.clusters.items()}


def stack_dir(stack: str, root: Path = DATA) -> Path:
    return root / stack


def _write_state(stack: str, architecture: str, brokers: list[tuple[Broker, str]], root: Path) -> None:
    clusters = {
        b.key: asdict(RunningCluster(b.key, name, b.bootstrap, b.broker_port, b.controller_port, b.pid, str(b.node_dir)))
        for b, name in brokers
        if b.pid is not None
    }
    doc = {"stack": stack, "architecture": architecture, "clusters": clusters}
    path = stack_dir(stack, root) / STATE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


def load(stack: str, root: Path = DATA) -> Emulation | None:
    """The recorded state of a stack on the emulator, or None if never brought up."""
    path = stack_dir(stack, root) / STATE
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    clusters = {k: RunningCluster(**c) for k, c in doc["clusters"].items()}
    return Emulation(doc["stack"], doc["architecture"], clusters)


def up(plan: Plan, *, base_port: int = ports.DEFAULT_BASE, root: Path = DATA, log: Log = print) -> Emulation:
    """Starts the plan's clusters and creates its topics; on any failure stops them all."""
    stack = plan.config.stack
    running = load(stack, root)
    if running and any(running.alive().values()):
        raise EmulatorError(f"stack '{stack}' is already up on the emulator: run `./scripts/emulator down {stack}` first")
    javabin = java.find()
    layout = ports.layout(list(plan.clusters), base_port)
    taken = ports.busy(p for pair in layout.values() for p in pair)
    if taken:
        owners = {p: k for k, pair in layout.items() for p in pair}
        what = ", ".join(f"{p} (for {owners[p]})" for p in taken)
        raise EmulatorError(
            f"port{'s' if len(taken) > 1 else ''} {what} already in use on {ports.HOST}: stop what holds "
            f"{'them' if len(taken) > 1 else 'it'}, or pick other ports with --base-port "
            f"(this plan needs {2 * len(layout)} from the base)"
        )
    jar_dir = jars.ensure(log)

    home = stack_dir(stack, root)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    brokers = [
        (Broker(key, home / naming.region_slug(c.region), *layout[key], javabin, jar_dir), c.name)
        for key, c in plan.clusters.items()
    ]
    started = time.monotonic()
    lap = lambda: f"{time.monotonic() - started:.1f} s"
    try:
        _format(b for b, _ in brokers)
        for broker, _ in brokers:
            broker.start()
            _write_state(stack, plan.architecture, brokers, root)
        log(f"storage formatted, {len(brokers)} broker{'s' if len(brokers) > 1 else ''} started for stack "
            f"'{stack}' ({lap()}), waiting for them ...")
        _wait_ready([b for b, _ in brokers], READY_TIMEOUT_S)
        log(f"brokers ready ({lap()}), creating topics ...")
        topics = emulated_topics(plan)
        # Each cluster independently; in parallel, as the brokers are.
        with ThreadPoolExecutor(len(brokers)) as pool:
            for done in [pool.submit(_provision, b.key, b.bootstrap, topics.get(b.key, {})) for b, _ in brokers]:
                done.result()
    except BaseException:
        stop({b.pid: b.node_dir for b, _ in brokers if b.pid is not None})
        (home / STATE).unlink(missing_ok=True)
        raise
    log(f"stack '{stack}' is up in {time.monotonic() - started:.1f} s")
    return load(stack, root)


def _format(brokers) -> None:
    procs = [(b, b.prepare()) for b in brokers]
    deadline = time.monotonic() + FORMAT_TIMEOUT_S
    failed = []
    for b, proc in procs:
        try:
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = "timeout"
        if code != 0:
            failed.append(f"{b.key}: {(b.node_dir / 'format.log').read_text(errors='replace').strip()[-500:]}")
    if failed:
        raise EmulatorError("formatting the brokers' storage failed:\n" + "\n".join(failed))


def _wait_ready(brokers: list[Broker], timeout: float) -> None:
    """Until every broker accepts connections and lists itself in its metadata."""
    deadline = time.monotonic() + timeout
    pending = list(brokers)
    while pending:
        for b in list(pending):
            if not b.alive():
                raise EmulatorError(f"the broker for {b.key} stopped while starting:\n{b.failure()}")
            if b.accepting() and _registered(b.bootstrap):
                pending.remove(b)
        if pending and time.monotonic() > deadline:
            keys = ", ".join(b.key for b in pending)
            raise EmulatorError(f"brokers for {keys} not ready after {timeout:.0f} s; logs under {pending[0].node_dir}")
        if pending:
            time.sleep(0.2)


def _registered(bootstrap: str) -> bool:
    """True once the broker is unfenced: it then lists itself as a live broker."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 1000, **QUIET})
    try:
        return bool(admin.list_topics(timeout=2).brokers)
    except KafkaException:
        return False


def _provision(key: str, bootstrap: str, topics: Mapping[str, EmulatedTopic]) -> None:
    """Creates a cluster's planned topics, then readies it for idempotent producers."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **QUIET})
    new = [NewTopic(t.name, t.partitions, t.replication_factor, config=dict(t.config)) for t in topics.values()]
    futures = admin.create_topics(new, operation_timeout=TOPICS_TIMEOUT_S, request_timeout=TOPICS_TIMEOUT_S) if new else {}
    for name, future in futures.items():
        try:
            future.result(timeout=TOPICS_TIMEOUT_S)
        except Exception as e:  # noqa: BLE001 - any failure names the topic
            raise EmulatorError(f"creating topic {name} on {key} failed: {e}") from None
    _warm_producer_ids(bootstrap)


def _warm_producer_ids(bootstrap: str) -> None:
    """Loads the broker's transaction coordinator, which hands out producer ids.

    On a fresh cluster the first idempotent producer otherwise waits about a
    second for it, which would show up as latency in the first messages.
    """
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "emulator-ready-probe", **QUIET})
    try:
        producer.init_transactions(READY_TIMEOUT_S)
    except KafkaException as e:
        raise EmulatorError(f"the broker at {bootstrap} does not hand out producer ids: {e}") from None


def down(stack: str, root: Path = DATA, log: Log = print) -> bool:
    """Stops a stack's brokers; False if nothing of it was running."""
    running = load(stack, root)
    if running is None:
        return False
    pids = {c.pid: Path(c.dir) for c in running.clusters.values()}
    live = [pid for pid, d in pids.items() if is_our_process(pid, d)]
    killed = stop(pids)
    (stack_dir(stack, root) / STATE).unlink(missing_ok=True)
    if killed:
        log(f"brokers {killed} did not stop within the grace period and were killed")
    return bool(live)


def topics_on(bootstrap: str, timeout: float = 5) -> set[str] | None:
    """The topics a running broker holds (internal ones left out), None if unreachable."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        md = AdminClient({"bootstrap.servers": bootstrap, **QUIET}).list_topics(timeout=timeout)
    except (OSError, KafkaException):
        return None
    return {t for t in md.topics if not t.startswith("__")}
