"""One single-node KRaft broker (broker and controller in one JVM)."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from emulator.credentials import ADMIN, MECHANISM, PROTOCOL, Credentials
from emulator.errors import EmulatorError
from emulator.ports import HOST

NODE_ID = 1
JAAS_PACKAGE = "org.apache.kafka.common.security"
# Small heaps: the emulator carries demo and test traffic, not production
# load, and a 4-cluster plan must fit a laptop. C1-only JIT and the serial GC
# start faster and use less memory than the server defaults.
JVM_OPTS = (
    "-Xms64m",
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
# Generous: four JVMs formatting at once on a busy laptop take tens of seconds each.
FORMAT_TIMEOUT_S = 150
# Brokers this process started, so stop() reaps them instead of leaving zombies.
_children: dict[int, subprocess.Popen] = {}
STOP_TIMEOUT_S = 20
KILL_TIMEOUT_S = 5

# Logging of every emulated JVM: INFO to one file; each node names the
# loggers it quiets (QUIET_LOGGERS).
LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
"""


def cluster_id() -> str:
    """A Kafka cluster id: a random UUID in URL-safe base64, not starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def server_properties(node_dir: Path, broker_port: int, controller_port: int, admin_password: str) -> dict[str, str]:
    """A single-node broker that authenticates every client with SASL/SCRAM-SHA-512 and authorizes it by ACL.

    The client listener (also the inter-broker one) takes SCRAM logins; the
    controller listener takes only the emulator's own super user, with PLAIN,
    because a KRaft controller cannot check SCRAM (its credentials live in the
    metadata it serves). Nothing is allowed without an ACL, as on MSK with
    `allow.everyone.if.no.acl.found=false`.
    """
    scram = f'ScramLoginModule required username="{ADMIN}" password="{admin_password}";'
    plain = f'PlainLoginModule required username="{ADMIN}" password="{admin_password}" user_{ADMIN}="{admin_password}";'
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "listeners": f"CLIENTS://{HOST}:{broker_port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"CLIENTS://{HOST}:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": f"CLIENTS:{PROTOCOL},CONTROLLER:{PROTOCOL}",
        "inter.broker.listener.name": "CLIENTS",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.clients.{MECHANISM.lower()}.sasl.jaas.config": f"{JAAS_PACKAGE}.scram.{scram}",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": f"{JAAS_PACKAGE}.plain.{plain}",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN}",
        "log.dirs": str(node_dir / "data"),
        # One broker: the internal topics cannot have more replicas either.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Fifty partitions each (the default) only slow a single broker down.
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.num.partitions": "1",
        # Only the plan creates topics, as in the cloud.
        "auto.create.topics.enable": "false",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        # The controller's no-op record every 500 ms (KIP-835) tells brokers of
        # other nodes that their metadata is current; a one-node cluster has
        # none, and the records cost CPU on every idle emulated cluster.
        "metadata.max.idle.interval.ms": "0",
    }


class JvmNode:
    """What a broker and a Connect worker share: a JVM run from the Kafka jars,
    with its config, logs and output under `node_dir`.

    Subclasses are dataclasses with `node_dir`, `java`, `jars` and `pid`, and
    set JVM_OPTS, LOG_NAME and QUIET_LOGGERS (logger -> level).
    """

    node_dir: Path
    java: str
    jars: Path
    pid: int | None
    JVM_OPTS: tuple[str, ...]
    LOG_NAME: str
    QUIET_LOGGERS: ClassVar[dict[str, str]]

    @property
    def log_file(self) -> Path:
        return self.node_dir / self.LOG_NAME

    def java_command(self, main: str, *args: str) -> list[str]:
        return [
            self.java,
            *self.JVM_OPTS,
            f"-Dlog4j2.configurationFile={self.node_dir / 'log4j2.properties'}",
            "-cp",
            f"{self.jars}/*",
            main,
            *args,
        ]

    def write_config(self, name: str, props: dict[str, str]) -> Path:
        """Writes `name` (Java properties) and the logging config; returns its path."""
        self.node_dir.mkdir(parents=True, exist_ok=True)
        path = self.node_dir / name
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        quiet = "".join(
            f"logger.q{i}.name = {logger}\nlogger.q{i}.level = {level}\n"
            for i, (logger, level) in enumerate(self.QUIET_LOGGERS.items())
        )
        (self.node_dir / "log4j2.properties").write_text(LOG4J2.format(log=self.log_file) + quiet)
        return path

    def spawn(self, main: str, *args: str) -> None:
        """Starts the JVM in its own session, output appended to stdout.log."""
        # The child keeps its own copy of the descriptor; ours closes here.
        with open(self.node_dir / "stdout.log", "ab") as out:
            # Its own session: a Ctrl-C meant for a script that already
            # returned does not reach a process left running by `up`.
            proc = subprocess.Popen(
                self.java_command(main, *args),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = proc.pid
        _children[proc.pid] = proc

    def alive(self) -> bool:
        return self.pid is not None and is_our_process(self.pid, self.node_dir)

    def failure(self) -> str:
        """The last errors in the process's output and log, to explain why it stopped."""
        lines: list[str] = []
        for path in (self.node_dir / "stdout.log", self.log_file):
            if path.exists():
                lines += [
                    line
                    for line in path.read_text(errors="replace").splitlines()
                    if "ERROR" in line or "Exception" in line
                ]
        return "\n".join(lines[-8:]) or f"(no errors logged; see {self.node_dir})"


@dataclass
class Broker(JvmNode):
    """The files and process of one emulated cluster, under `node_dir`."""

    JVM_OPTS = JVM_OPTS
    LOG_NAME = "server.log"
    QUIET_LOGGERS: ClassVar[dict[str, str]] = {"kafka.request.logger": "warn"}

    key: str
    node_dir: Path
    broker_port: int
    controller_port: int
    java: str
    jars: Path
    pid: int | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.broker_port}"

    def prepare(self, credentials: Credentials) -> subprocess.Popen:
        """Writes the config and starts formatting the storage with every login; returns that process."""
        config = self.write_config(
            "server.properties",
            server_properties(self.node_dir, self.broker_port, self.controller_port, credentials.passwords[ADMIN]),
        )
        scram = [
            arg
            for login, password in credentials.passwords.items()
            for arg in ("--add-scram", f"{MECHANISM}=[name={login},password={password}]")
        ]
        cmd = self.java_command("kafka.tools.StorageTool", "format", "-t", cluster_id(), "-c", str(config), *scram)
        with open(self.node_dir / "format.log", "wb") as out:
            return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def start(self) -> None:
        self.spawn("kafka.Kafka", str(self.node_dir / "server.properties"))

    def accepting(self) -> bool:
        try:
            with socket.create_connection((HOST, self.broker_port), timeout=0.5):
                return True
        except OSError:
            return False


def is_our_process(pid: int, node_dir: Path) -> bool:
    """True if `pid` is a live JVM started for `node_dir`, broker or worker (pids get reused)."""
    proc = _children.get(pid)
    if proc is not None:
        # Started by this process: right after the fork its command line is
        # still Python's, so ask the child itself.
        return proc.poll() is None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and f"{node_dir}/" in cmdline


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        del _children[pid]


def stop(pids: dict[int, Path]) -> list[int]:
    """SIGTERM, a bounded wait for a clean shutdown, then SIGKILL. Returns killed pids."""
    live = {pid: d for pid, d in pids.items() if is_our_process(pid, d)}
    for pid in live:
        os.kill(pid, signal.SIGTERM)
    killed = []
    for timeout, sig in ((STOP_TIMEOUT_S, signal.SIGKILL), (KILL_TIMEOUT_S, None)):
        deadline = time.monotonic() + timeout
        while live and time.monotonic() < deadline:
            for pid in list(live):
                _reap(pid)
                if not is_our_process(pid, live[pid]):
                    del live[pid]
            time.sleep(0.1)
        if sig is None:
            break
        for pid in live:
            os.kill(pid, sig)
            killed.append(pid)
    for pid in pids:
        _reap(pid)
    if live:
        raise EmulatorError(f"processes {sorted(live)} did not stop even after SIGKILL")
    return killed
