"""Bringing a stack's Plan up and down on the emulator, and its recorded state.

`up` starts one broker per planned cluster and creates the planned topics,
then one MirrorMaker 2 worker per mirror target running the planned flows
(emulator/connect.py); the state (ports, pids, directories) is written to
`<root>/<stack>/emulator.json` as soon as a process exists, so `down` can
always find what is running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from emulator import connect, credentials, jars, java, ports
from emulator.broker import FORMAT_TIMEOUT_S, Broker, is_our_process, stop
from emulator.errors import EmulatorError
from emulator.topics import EmulatedTopic, emulated_topics
from infra import kafka_acls
from infra.kafka_acls import Acl
from infra.kinds import ClusterRole
from infra.plan import MirrorFlow, Plan

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".emulator"
STATE = "emulator.json"
READY_TIMEOUT_S = 60
TOPICS_TIMEOUT_S = 30
# While brokers start, how often bring-up names the ones it still waits for.
PROGRESS_EVERY_S = 10

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
class RunningWorker:
    """The MirrorMaker 2 worker of the flows into cluster `target`."""

    target: str
    url: str
    rest_port: int
    pid: int
    dir: str
    connectors: tuple[str, ...]


@dataclass(frozen=True)
class Emulation:
    """A stack as it runs on the emulator."""

    stack: str
    architecture: str
    clusters: Mapping[str, RunningCluster]
    workers: Mapping[str, RunningWorker]
    # None: brought up by an emulator without access control; it can only be brought down.
    logins: credentials.Credentials | None
    root: Path

    @property
    def credentials(self) -> credentials.Credentials:
        if self.logins is None:
            raise EmulatorError(
                f"stack '{self.stack}' on the emulator has no {credentials.FILE} under "
                f"{stack_dir(self.stack, self.root)}: an older emulator brought it up; run "
                f"`./scripts/emulator down {self.stack}` and bring it up again"
            )
        return self.logins

    def bootstrap(self) -> dict[str, str]:
        """cluster key -> bootstrap address, the shape the routing client takes."""
        return {k: c.bootstrap for k, c in self.clusters.items()}

    def client(self, region: str) -> dict[str, str]:
        """The client settings of a region's services: their own login (pass as the routing client's `config`)."""
        return self.credentials.region(region)

    def clients(self, plan: Plan) -> dict[str, dict[str, str]]:
        """Region key -> the client settings of its services, for every region of `plan`."""
        return {r: self.client(r) for r in plan.config.regions}

    def admin(self) -> dict[str, str]:
        """The client settings of the emulator's own super user."""
        return self.credentials.admin()

    def alive(self) -> dict[str, bool]:
        return {k: is_our_process(c.pid, Path(c.dir)) for k, c in self.clusters.items()}

    def workers_alive(self) -> dict[str, bool]:
        return {k: is_our_process(w.pid, Path(w.dir)) for k, w in self.workers.items()}

    def pids(self) -> dict[int, Path]:
        return {
            **{w.pid: Path(w.dir) for w in self.workers.values()},
            **{c.pid: Path(c.dir) for c in self.clusters.values()},
        }


def stack_dir(stack: str, root: Path = DATA) -> Path:
    return root / stack


def _write_state(
    stack: str,
    architecture: str,
    brokers: list[tuple[Broker, str]],
    root: Path,
    workers: Mapping[str, tuple[connect.Worker, tuple[str, ...]]] = {},
) -> None:
    clusters = {
        b.key: asdict(
            RunningCluster(b.key, name, b.bootstrap, b.broker_port, b.controller_port, b.pid, str(b.node_dir))
        )
        for b, name in brokers
        if b.pid is not None
    }
    mirror = {
        key: asdict(RunningWorker(key, w.url, w.rest_port, w.pid, str(w.node_dir), names))
        for key, (w, names) in workers.items()
        if w.pid is not None
    }
    doc = {"stack": stack, "architecture": architecture, "clusters": clusters, "workers": mirror}
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
    workers = {
        k: RunningWorker(**{**w, "connectors": tuple(w["connectors"])}) for k, w in doc.get("workers", {}).items()
    }
    return Emulation(
        doc["stack"], doc["architecture"], clusters, workers, credentials.load(stack_dir(stack, root)), root
    )


def ports_needed(plan: Plan) -> int:
    """Consecutive loopback ports from the base that `plan` takes (with a standby hub, one more for failback's worker)."""
    standby = any(c.role == ClusterRole.STANDBY for c in plan.clusters.values())
    return ports.needed(len(plan.clusters), len(connect.flows_by_target(plan.mirrors)) + standby)


def up(plan: Plan, *, base_port: int = ports.DEFAULT_BASE, root: Path = DATA, log: Log = print) -> Emulation:
    """Starts the plan's clusters and creates its topics; on any failure stops them all."""
    stack = plan.config.stack
    running = load(stack, root)
    if running and any(running.alive().values()):
        raise EmulatorError(
            f"stack '{stack}' is already up on the emulator: run `./scripts/emulator down {stack}` first"
        )
    out_of_range = ports.check_base(base_port, ports_needed(plan))
    if out_of_range:
        raise EmulatorError(out_of_range)
    javabin = java.find()
    layout = ports.layout(list(plan.clusters), base_port)
    by_target = connect.flows_by_target(plan.mirrors)
    rest_ports = ports.worker_layout(len(layout), list(by_target), base_port)
    owners = {p: k for k, pair in layout.items() for p in pair}
    owners.update({p: f"the MirrorMaker 2 worker into {k}" for k, p in rest_ports.items()})
    taken = ports.busy(owners)
    if taken:
        what = ", ".join(f"{p} (for {owners[p]})" for p in taken)
        raise EmulatorError(
            f"port{'s' if len(taken) > 1 else ''} {what} already in use on {ports.HOST}: stop what holds "
            f"{'them' if len(taken) > 1 else 'it'}, or pick other ports with --base-port "
            f"(this plan needs {len(owners)} from the base)"
        )
    home = stack_dir(stack, root)
    shutil.rmtree(home, ignore_errors=True)
    try:
        home.mkdir(parents=True)
        (home / STATE).with_suffix(".tmp").write_text("")
    except OSError as e:
        raise EmulatorError(
            f"cannot write the stack's data directory {home}: {e.strerror or e}; make {root} "
            "a writable directory (or remove what is in the way) and run again"
        ) from None
    jar_dir = jars.ensure(log)
    logins = credentials.generate(plan)
    credentials.save(logins, home)

    brokers = [
        # By slug: a region may hold a local cluster and the standby hub.
        (Broker(key, home / c.slug, *layout[key], javabin, jar_dir), c.name)
        for key, c in plan.clusters.items()
    ]
    workers = {
        key: (
            connect.Worker(
                key,
                home / f"mirror-into-{plan.clusters[key].slug}",
                rest_ports[key],
                javabin,
                jar_dir,
            ),
            (),
        )
        for key in by_target
    }
    started = time.monotonic()
    lap = lambda: f"{time.monotonic() - started:.1f} s"
    try:
        _format((b for b, _ in brokers), logins)
        for broker, _ in brokers:
            broker.start()
            _write_state(stack, plan.architecture, brokers, root)
        log(
            f"storage formatted, {len(brokers)} broker{'s' if len(brokers) > 1 else ''} started for stack "
            f"'{stack}' ({lap()}), waiting for them ..."
        )
        admin = logins.admin()
        _wait_ready([b for b, _ in brokers], READY_TIMEOUT_S, admin, log, lap)
        log(f"brokers ready ({lap()}), creating topics and ACLs ...")
        topics = emulated_topics(plan)
        acls = credentials.acls(plan, logins.principals)
        # Each cluster independently; in parallel, as the brokers are.
        with ThreadPoolExecutor(len(brokers)) as pool:
            for done in [
                pool.submit(_provision, b.key, b.bootstrap, admin, topics.get(b.key, {}), acls[b.key])
                for b, _ in brokers
            ]:
                done.result()
        if workers:
            _start_mirroring(plan, brokers, workers, by_target, root, log, lap, logins)
            _write_state(stack, plan.architecture, brokers, root, workers)
    except BaseException:
        stop(
            {
                x.pid: x.node_dir
                for x in [*(w for w, _ in workers.values()), *(b for b, _ in brokers)]
                if x.pid is not None
            }
        )
        (home / STATE).unlink(missing_ok=True)
        raise
    log(f"stack '{stack}' is up in {time.monotonic() - started:.1f} s")
    emulation = load(stack, root)
    if emulation is None:
        raise EmulatorError(f"stack '{stack}' came up but its state file under {home} is gone")
    return emulation


def _start_mirroring(
    plan: Plan, brokers, workers, by_target, root: Path, log: Log, lap, logins: credentials.Credentials
) -> None:
    """Starts the workers, each logged in as a flow into its target, creates the connectors, waits until every task runs."""
    bootstrap = {b.key: b.bootstrap for b, _ in brokers}
    for key, (worker, _) in workers.items():
        worker.prepare(bootstrap[key], logins.java_client(kafka_acls.worker_login(plan, key, logins.principals)))
        worker.start()
        _write_state(plan.config.stack, plan.architecture, brokers, root, workers)
    flows = sum(len(f) for f in by_target.values())
    log(
        f"MirrorMaker 2: {len(workers)} Connect worker{'s' if len(workers) > 1 else ''} started for "
        f"{flows} mirror flow{'s' if flows > 1 else ''} ({lap()}), creating connectors ..."
    )
    for key, (worker, _) in list(workers.items()):
        configs = connect.configs_for(by_target[key], bootstrap, logins, fast=_between_hubs(plan, by_target[key]))
        _wait_answering(worker)
        connect.put_connectors(worker.url, configs)
        workers[key] = (worker, tuple(configs))
    for worker, names in workers.values():
        connect.wait_running(worker, list(names), worker_alive(worker))
        log(f"  MirrorMaker 2 into {worker.target}: {len(names)} connectors running ({lap()})")
    log(f"mirroring running ({lap()})")


def _between_hubs(plan: Plan, flows: list[MirrorFlow]) -> bool:
    """True for the flows between the hub and its standby, whichever way activeHub points them."""
    hubs = (ClusterRole.HUB, ClusterRole.STANDBY)
    return all(plan.clusters[f.source].role in hubs and plan.clusters[f.target].role in hubs for f in flows)


def worker_alive(worker: connect.Worker):
    return lambda: worker.pid is not None and is_our_process(worker.pid, worker.node_dir)


def _wait_answering(worker: connect.Worker) -> None:
    deadline = time.monotonic() + connect.START_TIMEOUT_S
    while not connect.answering(worker.url):
        if not worker_alive(worker)():
            raise EmulatorError(
                f"the MirrorMaker 2 worker for {worker.target} stopped while starting:\n{worker.failure()}"
            )
        if time.monotonic() > deadline:
            raise EmulatorError(
                f"the MirrorMaker 2 worker for {worker.target} does not answer on {worker.url} "
                f"after {connect.START_TIMEOUT_S} s; log: {worker.log_file}"
            )
        time.sleep(0.2)


def _format(brokers, logins: credentials.Credentials) -> None:
    procs = [(b, b.prepare(logins)) for b in brokers]
    deadline = time.monotonic() + FORMAT_TIMEOUT_S
    failed = []
    for b, proc in procs:
        try:
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = f"not done after {FORMAT_TIMEOUT_S} s (is the machine overloaded?)"
        if code != 0:
            output = (b.node_dir / "format.log").read_text(errors="replace").strip()[-500:]
            failed.append(f"{b.key}: exit {code}: {output}")
    if failed:
        raise EmulatorError("formatting the brokers' storage failed:\n" + "\n".join(failed))


def _wait_ready(
    brokers: list[Broker],
    timeout: float,
    admin: Mapping[str, str],
    log: Log = lambda _: None,
    lap: Callable[[], str] = lambda: "",
) -> None:
    """Until every broker accepts connections and lists itself in its metadata.

    Says when each broker is ready, and every PROGRESS_EVERY_S which ones it still waits for.
    """
    deadline = time.monotonic() + timeout
    pending = list(brokers)
    said = time.monotonic()
    while pending:
        for b in list(pending):
            if not b.alive():
                raise EmulatorError(f"the broker for {b.key} stopped while starting:\n{b.failure()}")
            if b.accepting() and _registered(b.bootstrap, admin):
                pending.remove(b)
                log(f"  broker for {b.key} ready on {b.bootstrap} ({lap()})")
        if pending and time.monotonic() - said >= PROGRESS_EVERY_S:
            said = time.monotonic()
            log(f"  ... still waiting for the brokers of {', '.join(b.key for b in pending)} ({lap()})")
        if pending and time.monotonic() > deadline:
            keys = ", ".join(b.key for b in pending)
            raise EmulatorError(f"brokers for {keys} not ready after {timeout:.0f} s; logs under {pending[0].node_dir}")
        if pending:
            time.sleep(0.2)


def _registered(bootstrap: str, login: Mapping[str, str]) -> bool:
    """True once the broker is unfenced: it then lists itself as a live broker."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.connection.setup.timeout.ms": 1000, **login, **QUIET})
    try:
        return bool(admin.list_topics(timeout=2).brokers)
    except KafkaException:
        return False


def _provision(
    key: str, bootstrap: str, login: Mapping[str, str], topics: Mapping[str, EmulatedTopic], acls: tuple[Acl, ...]
) -> None:
    """Creates a cluster's planned topics and ACLs, then readies it for idempotent producers."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **login, **QUIET})
    new = [NewTopic(t.name, t.partitions, t.replication_factor, config=dict(t.config)) for t in topics.values()]
    futures = (
        admin.create_topics(new, operation_timeout=TOPICS_TIMEOUT_S, request_timeout=TOPICS_TIMEOUT_S) if new else {}
    )
    for name, future in futures.items():
        try:
            future.result(timeout=TOPICS_TIMEOUT_S)
        except KafkaException as e:
            # The storage was formatted empty, so an existing topic is this request's own,
            # created by a retry the client made after a slow first answer.
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise EmulatorError(f"creating topic {name} on {key} failed: {e}") from None
        except Exception as e:
            raise EmulatorError(f"creating topic {name} on {key} failed: {e}") from None
    if acls:
        for binding, future in admin.create_acls([_binding(a) for a in acls], request_timeout=TOPICS_TIMEOUT_S).items():
            try:
                future.result(timeout=TOPICS_TIMEOUT_S)
            except Exception as e:
                raise EmulatorError(f"creating ACL {binding} on {key} failed: {e}") from None
    _warm_producer_ids(bootstrap, login)


_RESOURCES = {kafka_acls.ResourceType.TOPIC: ResourceType.TOPIC, kafka_acls.ResourceType.GROUP: ResourceType.GROUP}
_PATTERNS = {
    kafka_acls.Pattern.LITERAL: ResourcePatternType.LITERAL,
    kafka_acls.Pattern.PREFIXED: ResourcePatternType.PREFIXED,
}


def _binding(acl: Acl) -> AclBinding:
    return AclBinding(
        _RESOURCES[acl.resource],
        acl.name,
        _PATTERNS[acl.pattern],
        acl.principal,
        kafka_acls.HOST,
        AclOperation[acl.operation.name],
        AclPermissionType.ALLOW,
    )


def _warm_producer_ids(bootstrap: str, login: Mapping[str, str]) -> None:
    """Loads the broker's transaction coordinator, which hands out producer ids.

    On a fresh cluster the first idempotent producer otherwise waits about a
    second for it, which would show up as latency in the first messages.
    """
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "emulator-ready-probe", **login, **QUIET})
    try:
        producer.init_transactions(READY_TIMEOUT_S)
    except KafkaException as e:
        raise EmulatorError(f"the broker at {bootstrap} does not hand out producer ids: {e}") from None


def down(stack: str, root: Path = DATA, log: Log = print) -> bool:
    """Stops a stack's MirrorMaker 2 workers and brokers; False if nothing of it was running."""
    running = load(stack, root)
    if running is None:
        return False
    # Workers first, so they do not spend the brokers' shutdown reconnecting.
    live = [pid for pid, d in running.pids().items() if is_our_process(pid, d)]
    killed = stop({w.pid: Path(w.dir) for w in running.workers.values()})
    killed += stop({c.pid: Path(c.dir) for c in running.clusters.values()})
    (stack_dir(stack, root) / STATE).unlink(missing_ok=True)
    if killed:
        log(f"processes {killed} did not stop within the grace period and were killed")
    return bool(live)


def _set_pid(stack: str, root: Path, section: str, key: str, pid: int | None) -> None:
    if pid is None:
        raise EmulatorError(f"{key}: its process did not start")
    path = stack_dir(stack, root) / STATE
    doc = json.loads(path.read_text())
    doc[section][key]["pid"] = pid
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


def _running(stack: str, root: Path) -> Emulation:
    running = load(stack, root)
    if running is None:
        raise EmulatorError(f"stack '{stack}' is not up on the emulator")
    return running


def stop_process(stack: str, key: str, *, worker: bool, kill: bool = False, root: Path = DATA) -> None:
    """Stops one cluster's broker, or the MirrorMaker 2 worker into it: SIGTERM, or SIGKILL if `kill`."""
    running = _running(stack, root)
    x = running.workers[key] if worker else running.clusters[key]
    if kill and is_our_process(x.pid, Path(x.dir)):
        os.kill(x.pid, signal.SIGKILL)
    stop({x.pid: Path(x.dir)})


def start_broker(stack: str, key: str, *, root: Path = DATA) -> None:
    """Starts a stopped cluster's broker again on its data and ports; waits until it is ready."""
    c = _running(stack, root).clusters[key]
    broker = Broker(key, Path(c.dir), c.broker_port, c.controller_port, java.find(), jars.jar_dir())
    broker.start()
    _set_pid(stack, root, "clusters", key, broker.pid)
    _wait_ready([broker], READY_TIMEOUT_S, _running(stack, root).admin())


def restart_broker(
    stack: str, key: str, *, kill: bool = False, down_s: float = 0, root: Path = DATA, log: Log = print
) -> None:
    """Stops one cluster's broker if it runs (SIGTERM, or SIGKILL if `kill`), keeps it down `down_s` seconds,
    then starts it again on its data and ports and waits until it is ready."""
    running = _running(stack, root)
    if key not in running.clusters:
        raise EmulatorError(f"stack '{stack}' has no cluster '{key}'; its clusters: {', '.join(running.clusters)}")
    c = running.clusters[key]
    if is_our_process(c.pid, Path(c.dir)):
        log(f"{'killing' if kill else 'stopping'} the broker of {key} (pid {c.pid}) ...")
        stop_process(stack, key, worker=False, kill=kill, root=root)
    else:
        log(f"the broker of {key} (pid {c.pid}) is not running")
    if down_s > 0:
        time.sleep(down_s)
    log(f"starting the broker of {key} on its data ...")
    start_broker(stack, key, root=root)


def start_worker(stack: str, key: str, *, root: Path = DATA) -> None:
    """Starts a stopped MirrorMaker 2 worker again; waits until its connectors and tasks run.

    Its connectors live in its config topic on the target, so it resumes
    them from its committed positions without being told.
    """
    w = _running(stack, root).workers[key]
    worker = connect.Worker(key, Path(w.dir), w.rest_port, java.find(), jars.jar_dir())
    worker.start()
    _set_pid(stack, root, "workers", key, worker.pid)
    connect.wait_running(worker, list(w.connectors), worker_alive(worker))


def topics_on(bootstrap: str, login: Mapping[str, str], timeout: float = 5) -> set[str] | None:
    """The topics a running broker holds (Kafka's and MirrorMaker's own left out), None if unreachable."""
    host, port = bootstrap.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        md = AdminClient({"bootstrap.servers": bootstrap, **login, **QUIET}).list_topics(timeout=timeout)
    except (OSError, KafkaException):
        return None
    return {t for t in md.topics if not connect.internal(t)}
