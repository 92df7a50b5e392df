"""MirrorMaker 2 on the emulator: a Kafka Connect worker per mirror target.

Like GCP Managed Kafka Connect, whose primary cluster is the flow's target,
each worker runs in distributed mode with its internal topics (connector
configs, source offsets, status) on the target cluster, and runs the
connectors of every planned flow into that cluster. The connectors are
created through the worker's REST API (on a loopback port) with exactly the
configuration `infra.mirrormaker.connector_configs` generates for the cloud;
only the addresses and the internal topics' replication factor (1, as every
emulated topic) differ.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from emulator.broker import JvmNode
from emulator.credentials import Credentials
from emulator.errors import EmulatorError
from emulator.ports import HOST
from emulator.topics import EMULATED_REPLICAS
from infra import access, mirrormaker
from infra.plan import MirrorFlow

# Smaller than a broker's: a worker holds a few consumers and producers.
JVM_OPTS = (
    "-Xms32m",
    "-Xmx192m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
MAIN = "org.apache.kafka.connect.cli.ConnectDistributed"
REST_TIMEOUT_S = 5
START_TIMEOUT_S = 90
RUNNING = "RUNNING"
# The hub -> standby flow's checkpoint settings on the emulator (configs_for's `fast`).
FAST_SYNC = {
    "refresh.groups.interval.seconds": "1",
    "emit.checkpoints.interval.seconds": "1",
    "sync.group.offsets.interval.seconds": "1",
}


def worker_properties(target: str, bootstrap: str, rest_port: int, client: Mapping[str, str]) -> dict[str, str]:
    """The Connect worker's own settings (the connectors bring theirs); `client`: how it logs in to `target`."""
    return {
        "bootstrap.servers": bootstrap,
        **client,
        "group.id": mirrormaker.worker_group(target),
        **mirrormaker.worker_topics(target),
        # Each connector's clients log in as its own flow (configs_for).
        "connector.client.config.override.policy": "All",
        "config.storage.replication.factor": str(EMULATED_REPLICAS),
        "offset.storage.replication.factor": str(EMULATED_REPLICAS),
        "status.storage.replication.factor": str(EMULATED_REPLICAS),
        "offset.storage.partitions": "1",
        "status.storage.partitions": "1",
        "key.converter": mirrormaker.BYTES,
        "value.converter": mirrormaker.BYTES,
        "listeners": f"http://{HOST}:{rest_port}",
        "rest.advertised.host.name": HOST,
        "rest.advertised.port": str(rest_port),
        # Kafka's own plugins declare themselves; scanning ~90 jars for them
        # costs seconds at every start.
        "plugin.discovery": "service_load",
        # A worker killed and started again is the only member: hand its
        # connectors back at once instead of waiting 5 minutes for the old one.
        "scheduled.rebalance.max.delay.ms": "0",
        # How often source positions are committed: what a killed worker
        # copies again after its restart (at-least-once).
        "offset.flush.interval.ms": "2000",
    }


def internal(topic: str) -> bool:
    """True for Kafka's, Connect's and MirrorMaker 2's own topics.

    Planned topics are upper case without '.', so none can look like these:
    `__consumer_offsets`, `mm2-<alias>-configs|offsets|status` (the worker),
    `mm2-offset-syncs.<source>.internal`, `<source>.checkpoints.internal`.
    """
    return topic.startswith(("__", "mm2-")) or topic.endswith(".internal")


def flows_by_target(flows: Mapping[str, MirrorFlow]) -> dict[str, list[MirrorFlow]]:
    out: dict[str, list[MirrorFlow]] = {}
    for flow in flows.values():
        out.setdefault(flow.target, []).append(flow)
    return out


def configs_for(
    flows: list[MirrorFlow], bootstrap: Mapping[str, str], credentials: Credentials, *, fast: bool = False
) -> dict[str, dict[str, str]]:
    """Connector name -> config, from infra.mirrormaker with the emulated addresses and each flow's own login.

    Besides MirrorMaker 2's own clients (source and target), the producer and
    admin client the Connect worker makes for each connector log in as the flow.

    `fast`: the flow between the hub and its standby, whose group offsets a
    failover within seconds of a demo's start must find synced: new groups
    are found, and their offsets translated, every second (FAST_SYNC) instead
    of every 30 and 10 s.
    """
    out: dict[str, dict[str, str]] = {}
    for flow in flows:
        client = credentials.java_client(credentials.principals[access.mirror_key(flow.key)])
        overrides = {f"{kind}.override.{k}": v for kind in ("producer", "admin") for k, v in client.items()}
        configs = mirrormaker.connector_configs(
            flow,
            mirrormaker.Endpoint(mirrormaker.alias(flow.source), bootstrap[flow.source], client),
            mirrormaker.Endpoint(mirrormaker.alias(flow.target), bootstrap[flow.target], client),
            internal_replication_factor=EMULATED_REPLICAS,
        )
        checkpoint = mirrormaker.connector_names(flow).get("checkpoint")
        if fast and checkpoint is not None:
            configs[checkpoint] = {**configs[checkpoint], **FAST_SYNC}
        out.update({name: {**config, **overrides} for name, config in configs.items()})
    return out


@dataclass
class Worker(JvmNode):
    """The files and process of one Connect worker, under `node_dir`."""

    JVM_OPTS = JVM_OPTS
    LOG_NAME = "connect.log"
    QUIET_LOGGERS: ClassVar[dict[str, str]] = {"org.apache.kafka.clients": "warn", "org.reflections": "error"}

    target: str
    node_dir: Path
    rest_port: int
    java: str
    jars: Path
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.rest_port}"

    def prepare(self, bootstrap: str, client: Mapping[str, str]) -> None:
        self.write_config("worker.properties", worker_properties(self.target, bootstrap, self.rest_port, client))

    def start(self) -> None:
        self.spawn(MAIN, str(self.node_dir / "worker.properties"))


def rest(url: str, method: str = "GET", body: object | None = None, timeout: float = REST_TIMEOUT_S):
    """A call to a worker's REST API; the decoded JSON answer (None if empty)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        text = resp.read()
    return json.loads(text) if text else None


def answering(url: str) -> bool:
    try:
        rest(url + "/", timeout=1)
        return True
    except (OSError, ValueError):
        return False


def put_connectors(url: str, configs: Mapping[str, Mapping[str, str]]) -> None:
    """Creates or updates each connector with exactly its generated config."""
    for name, config in configs.items():
        try:
            rest(f"{url}/connectors/{name}/config", "PUT", dict(config), timeout=30)
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise EmulatorError(f"the Connect worker at {url} refused connector {name}: {e.code} {detail}") from None


def _call(url: str, what: str, method: str, body: object | None = None) -> None:
    try:
        rest(url, method, body, timeout=30)
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        raise EmulatorError(f"the Connect worker refused to {what}: {e.code} {detail}") from None


def create_stopped(url: str, name: str, config: Mapping[str, str]) -> None:
    """Creates a connector that does not run yet, so its offsets can be set first (KIP-980)."""
    _call(
        f"{url}/connectors",
        f"create {name}",
        "POST",
        {"name": name, "config": dict(config), "initial_state": "STOPPED"},
    )


def alter_offsets(url: str, name: str, offsets: list[dict]) -> None:
    """Sets a stopped connector's source offsets (KIP-875: PATCH /connectors/<name>/offsets)."""
    _call(f"{url}/connectors/{name}/offsets", f"set the offsets of {name}", "PATCH", {"offsets": offsets})


def offsets(url: str, name: str) -> list[dict]:
    """A connector's committed source offsets (KIP-875): [{"partition": {...}, "offset": {...}}, ...]."""
    doc = rest(f"{url}/connectors/{name}/offsets")
    return list(doc.get("offsets", [])) if doc else []


def resume(url: str, name: str) -> None:
    _call(f"{url}/connectors/{name}/resume", f"resume {name}", "PUT")


def delete(url: str, name: str) -> None:
    """Deletes a connector; one that is not there is no error."""
    try:
        rest(f"{url}/connectors/{name}", "DELETE", timeout=30)
    except urllib.error.HTTPError as e:
        if e.code != 404:
            detail = e.read().decode(errors="replace")
            raise EmulatorError(f"the Connect worker at {url} refused to delete {name}: {e.code} {detail}") from None


def wait_answering(worker: Worker, alive, timeout: float = START_TIMEOUT_S) -> None:
    """Until the worker's REST API answers (bounded); EmulatorError if the worker stops meanwhile."""
    deadline = time.monotonic() + timeout
    while not answering(worker.url):
        if not alive():
            raise EmulatorError(
                f"the MirrorMaker 2 worker for {worker.target} stopped while starting:\n{worker.failure()}"
            )
        if time.monotonic() > deadline:
            raise EmulatorError(
                f"the MirrorMaker 2 worker for {worker.target} does not answer on {worker.url} "
                f"after {timeout:.0f} s; log: {worker.log_file}"
            )
        time.sleep(0.2)


def status(url: str) -> dict[str, dict]:
    """Connector name -> {'state': ..., 'tasks': [state, ...], 'trace': first failure or None}."""
    doc = rest(f"{url}/connectors?expand=status")
    out = {}
    for name, entry in doc.items():
        s = entry["status"]
        traces = [t.get("trace") for t in [s["connector"], *s["tasks"]] if t.get("trace")]
        out[name] = {
            "state": s["connector"]["state"],
            "tasks": [t["state"] for t in sorted(s["tasks"], key=lambda t: t["id"])],
            "trace": traces[0] if traces else None,
        }
    return out


def all_running(states: Mapping[str, dict], names) -> bool:
    """Every connector and task runs. A checkpoint connector has no task until
    the source has a consumer group to translate offsets for."""
    return all(
        n in states
        and states[n]["state"] == RUNNING
        and all(t == RUNNING for t in states[n]["tasks"])
        and (states[n]["tasks"] or n.endswith("-checkpoint"))
        for n in names
    )


def wait_running(worker: Worker, names: list[str], alive, timeout: float = START_TIMEOUT_S) -> None:
    """Until the worker answers and every named connector and its tasks run (bounded)."""
    deadline = time.monotonic() + timeout
    states: dict = {}
    while True:
        if not alive():
            raise EmulatorError(f"the MirrorMaker 2 worker for {worker.target} stopped:\n{worker.failure()}")
        if answering(worker.url):
            try:
                states = status(worker.url)
            except (OSError, ValueError):
                states = {}
            failed = {n: s for n, s in states.items() if s["state"] == "FAILED" or "FAILED" in s["tasks"]}
            if failed:
                name, s = next(iter(failed.items()))
                trace = (s["trace"] or "").strip().splitlines()
                raise EmulatorError(
                    f"MirrorMaker 2 connector {name} failed on the worker for {worker.target}: " + "\n".join(trace[:6])
                )
            if all_running(states, names):
                return
        if time.monotonic() > deadline:
            have = {n: (s["state"], s["tasks"]) for n, s in states.items()}
            raise EmulatorError(
                f"MirrorMaker 2 connectors for {worker.target} not running after {timeout:.0f} s "
                f"({have or 'worker not answering'}); log: {worker.log_file}"
            )
        time.sleep(0.3)
