"""The standby hub on the emulator: failing over to it when the hub is gone, and failing back.

What `pulumi up` with `multicloud-kafka:activeHub` flipped does in the
cloud, done here on the running stack, without stopping anything that holds
data:

- `fail_over`: the flow from the hub to the standby stops (its source is
  gone); every regional flow the hub fed (regional-clusters) is fed from the
  standby instead, starting, per partition, at the first message of the
  standby not older than the last one the region's cluster holds (a few
  copied again, none skipped: MirrorMaker 2 keeps each record's timestamp).
- `start_failback`: the old hub, started again on its data, gets back what
  the standby accepted since the failover: a reverse flow, standby to hub,
  starting at the standby's first message since the failover time (Kafka's
  time index: ListOffsets by timestamp), so nothing the hub already has is
  copied again. Clients then switch back (the producers first), and
  `caught_up` says when the hub has everything the standby accepted.
- `finish_failback`: the reverse flow stops, the regional flows are fed from
  the hub again and the hub's flow to the standby resumes, each from the
  first message its target does not hold yet.

Each step records what it did in `<stack>/failover.json`, so `status`,
`down` and the next step know which hub is active and since when.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition

from emulator import connect, credentials, jars, java, ports
from emulator.broker import is_our_process, stop
from emulator.errors import EmulatorError
from emulator.stack import DATA, STATE, Emulation, load, stack_dir, start_broker, worker_alive
from infra import kafka_acls, mirrormaker
from infra.kinds import ClusterRole
from infra.plan import MirrorFlow, Plan

FAILOVER_STATE = "failover.json"
QUIET = {"log_level": 0}
TIMEOUT_S = 10
CATCH_UP_TIMEOUT_S = 120
Log = Callable[[str], None]


@dataclass(frozen=True)
class HubPair:
    """The plan's two hub clusters, and the flows the active one feeds."""

    hub: str
    standby: str
    # The hub -> standby flow as planned (activeHub: hub).
    forward: MirrorFlow
    # The flows from the hub into regional clusters (regional-clusters), by target.
    regional: Mapping[str, MirrorFlow]


def hubs(plan: Plan) -> HubPair:
    """The hub pair of a plan with a standby hub planned active at the hub; EmulatorError otherwise."""
    standby = [c.key for c in plan.clusters.values() if c.role == ClusterRole.STANDBY]
    if not standby:
        raise EmulatorError(
            f"stack '{plan.config.stack}' has no standby hub: set multicloud-kafka:standbyHub in its stack file "
            "to fail over (docs/config.md)"
        )
    hub = plan.config.hub.key
    forward = [f for f in plan.mirrors.values() if f.source == hub and f.target == standby[0]]
    if not forward:
        raise EmulatorError(
            f"stack '{plan.config.stack}' has multicloud-kafka:activeHub set to standby: the emulator fails over "
            "from a plan whose hub is active; set activeHub to hub (or remove it) and bring the stack up again"
        )
    regional = {f.target: f for f in plan.mirrors.values() if f.source == hub and f.target != standby[0]}
    return HubPair(hub, standby[0], forward[0], regional)


def state(stack: str, root: Path = DATA) -> dict:
    """What the failover steps did so far ({} for a stack on its hub)."""
    path = stack_dir(stack, root) / FAILOVER_STATE
    return json.loads(path.read_text()) if path.exists() else {}


def _save(stack: str, root: Path, doc: dict) -> None:
    path = stack_dir(stack, root) / FAILOVER_STATE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


def _set_connectors(stack: str, root: Path, target: str, names: Iterable[str], worker: dict | None = None) -> None:
    """Records the connectors a worker runs (and a worker added), so `status` and `down` see them."""
    path = stack_dir(stack, root) / STATE
    doc = json.loads(path.read_text())
    if worker is not None:
        doc["workers"][target] = worker
    doc["workers"][target]["connectors"] = list(names)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


def _flow(source: str, target: str, topics: tuple[str, ...], like: MirrorFlow) -> MirrorFlow:
    """`like`, between other clusters."""
    return dataclasses.replace(like, key=f"{source}->{target}", source=source, target=target, topics=topics)


def _partitions(bootstrap: str, login: Mapping[str, str], topics: Iterable[str]) -> list[tuple[str, int]]:
    c = Consumer({"bootstrap.servers": bootstrap, **login, "group.id": "emulator-failover", **QUIET})
    try:
        meta = c.list_topics(timeout=TIMEOUT_S).topics
        return [(t, p) for t in sorted(set(topics)) if t in meta for p in sorted(meta[t].partitions)]
    finally:
        c.close()


def ends(bootstrap: str, login: Mapping[str, str], topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) -> end offset on a cluster, read as `login` (the emulator's admin)."""
    c = Consumer({"bootstrap.servers": bootstrap, **login, "group.id": "emulator-failover", **QUIET})
    try:
        return {
            tp: c.get_watermark_offsets(TopicPartition(*tp), timeout=TIMEOUT_S)[1]
            for tp in _partitions(bootstrap, login, topics)
        }
    finally:
        c.close()


def last_timestamps(bootstrap: str, login: Mapping[str, str], topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) -> timestamp (ms) of its last message, for the partitions holding any."""
    c = Consumer(
        {"bootstrap.servers": bootstrap, **login, "group.id": "emulator-failover", "enable.auto.commit": False, **QUIET}
    )
    try:
        want = {}
        for tp in _partitions(bootstrap, login, topics):
            low, high = c.get_watermark_offsets(TopicPartition(*tp), timeout=TIMEOUT_S)
            if high > low:
                want[tp] = high - 1
        if not want:
            return {}
        c.assign([TopicPartition(t, p, o) for (t, p), o in want.items()])
        out: dict[tuple[str, int], int] = {}
        deadline = time.monotonic() + TIMEOUT_S
        while len(out) < len(want) and time.monotonic() < deadline:
            for msg in c.consume(500, 0.5):
                if msg.error() is None:
                    tp = (msg.topic() or "", msg.partition() or 0)
                    out.setdefault(tp, msg.timestamp()[1])
        if len(out) < len(want):
            missing = sorted(set(want) - set(out))[:3]
            raise EmulatorError(f"could not read the last message of {missing} on {bootstrap} in {TIMEOUT_S} s")
        return out
    finally:
        c.close()


def offsets_at(
    bootstrap: str, login: Mapping[str, str], topics: Iterable[str], since_ms: Mapping[tuple[str, int], int] | int
) -> dict:
    """(topic, partition) -> the first offset whose timestamp is `since_ms` or later (the end if none).

    `since_ms`: one time for every partition, or a time per partition (a
    partition not named starts at its beginning). The ends are read before
    the time index is asked: a message appended in between (a producer that
    just failed over) is then copied, not skipped.
    """
    c = Consumer({"bootstrap.servers": bootstrap, **login, "group.id": "emulator-failover", **QUIET})
    try:
        tps = _partitions(bootstrap, login, topics)
        before = {tp: c.get_watermark_offsets(TopicPartition(*tp), timeout=TIMEOUT_S)[1] for tp in tps}
        times = {tp: since_ms if isinstance(since_ms, int) else since_ms.get(tp, 0) for tp in tps}
        found = c.offsets_for_times([TopicPartition(t, p, times[(t, p)]) for t, p in tps], timeout=TIMEOUT_S)
        out = {}
        for tp in found:
            key = (tp.topic, tp.partition)
            if tp.error is not None:
                raise EmulatorError(f"cannot look up offsets by time on {bootstrap} for {key}: {tp.error}")
            out[key] = tp.offset if tp.offset >= 0 else before[key]
        return out
    except KafkaException as e:
        raise EmulatorError(f"cannot look up offsets by time on {bootstrap}: {e}") from None
    finally:
        c.close()


def _start_flow(
    url: str,
    flow: MirrorFlow,
    emulation: Emulation,
    start: Mapping[tuple[str, int], int],
    fast: bool,
) -> tuple[str, ...]:
    """Creates a flow's connectors; its source connector copies each partition from `start` on (KIP-875 offsets).

    The flow logs in as itself: the emulation holds the logins and ACLs of the plan with either hub active.
    """
    configs = connect.configs_for([flow], emulation.bootstrap(), emulation.credentials, fast=fast)
    names = mirrormaker.connector_names(flow)
    source_alias = mirrormaker.alias(flow.source)
    connect.create_stopped(url, names["source"], configs[names["source"]])
    # MirrorMaker 2 keeps the offset of the last record it copied and resumes after it; none (a
    # connector of that name deleted earlier keeps its offsets) starts at the partition's beginning.
    offsets = [
        {
            "partition": {"cluster": source_alias, "topic": t, "partition": p},
            "offset": {"offset": o - 1} if o > 0 else None,
        }
        for (t, p), o in start.items()
    ]
    if offsets:
        connect.alter_offsets(url, names["source"], offsets)
    connect.resume(url, names["source"])
    if "checkpoint" in names:
        connect.put_connectors(url, {names["checkpoint"]: configs[names["checkpoint"]]})
    return tuple(configs)


def _stop_flow(url: str, flow: MirrorFlow) -> None:
    for name in mirrormaker.connector_names(flow).values():
        connect.delete(url, name)


def fail_over(plan: Plan, emulation: Emulation, at_ms: int, *, root: Path = DATA, log: Log = print) -> None:
    """The standby becomes the active hub: the hub's flow to it stops, the regional flows are fed from it.

    `at_ms`: when the hub went (epoch ms); failback copies back what the standby accepted from then on.
    """
    pair = hubs(plan)
    stack = plan.config.stack
    if state(stack, root).get("active") == pair.standby:
        raise EmulatorError(f"stack '{stack}' has already failed over to {pair.standby}")
    bootstrap, admin = emulation.bootstrap(), emulation.admin()

    def repoint(target: str, flow: MirrorFlow) -> tuple[str, ...]:
        worker = emulation.workers[target]
        new = _flow(pair.standby, target, flow.topics, flow)
        # Stopped first: what it copies until it stops counts in the region's last timestamps.
        _stop_flow(worker.url, flow)
        start = offsets_at(
            bootstrap[pair.standby], admin, flow.topics, last_timestamps(bootstrap[target], admin, flow.topics)
        )
        return _start_flow(worker.url, new, emulation, start, fast=False)

    # Each region's worker on its own: the regions receive again as soon as their own flow runs.
    if pair.regional:
        with ThreadPoolExecutor(len(pair.regional)) as pool:
            done = {t: pool.submit(repoint, t, f) for t, f in pair.regional.items()}
            for target, future in done.items():
                _set_connectors(stack, root, target, future.result())
                log(f"mirror flow into {target} now fed from the standby {pair.standby}")
    _stop_flow(emulation.workers[pair.standby].url, pair.forward)
    _set_connectors(stack, root, pair.standby, ())
    _save(stack, root, {"active": pair.standby, "failedOverAtMs": at_ms})


def start_failback(plan: Plan, emulation: Emulation, *, root: Path = DATA, log: Log = print) -> None:
    """Starts the old hub again on its data and copies back to it what the standby accepted since the failover."""
    pair = hubs(plan)
    stack = plan.config.stack
    doc = state(stack, root)
    if doc.get("active") != pair.standby:
        raise EmulatorError(f"stack '{stack}' has not failed over: its hub {pair.hub} is active")
    if not emulation.alive()[pair.hub]:
        log(f"starting the old hub {pair.hub} again on its data ...")
        start_broker(stack, pair.hub, root=root)
    bootstrap = emulation.bootstrap()
    reverse = _flow(pair.standby, pair.hub, pair.forward.topics, pair.forward)
    worker = connect.Worker(
        pair.hub,
        stack_dir(stack, root) / f"mirror-into-{plan.clusters[pair.hub].slug}",
        reverse_port(emulation),
        java.find(),
        jars.jar_dir(),
    )
    # The worker into the old hub runs the flipped plan's flow into it, as that flow's login.
    flipped = credentials.access_plans(plan)[1]
    logins = emulation.credentials
    worker.prepare(
        bootstrap[pair.hub], logins.java_client(kafka_acls.worker_login(flipped, pair.hub, logins.principals))
    )
    worker.start()
    record = {
        "target": pair.hub,
        "url": worker.url,
        "rest_port": worker.rest_port,
        "pid": worker.pid,
        "dir": str(worker.node_dir),
        "connectors": [],
    }
    _set_connectors(stack, root, pair.hub, (), record)
    connect.wait_answering(worker, worker_alive(worker))
    start = offsets_at(bootstrap[pair.standby], emulation.admin(), reverse.topics, int(doc["failedOverAtMs"]))
    names = _start_flow(worker.url, reverse, emulation, start, fast=True)
    _set_connectors(stack, root, pair.hub, names)
    connect.wait_running(worker, list(names), worker_alive(worker))
    doc["reverseFrom"] = {f"{t}:{p}": o for (t, p), o in start.items()}
    _save(stack, root, doc)
    log(f"copying back to {pair.hub} what {pair.standby} accepted since the failover")


def reverse_port(emulation: Emulation) -> int:
    """The REST port of the worker into the old hub: the one after every planned port."""
    used = [p for c in emulation.clusters.values() for p in (c.broker_port, c.controller_port)]
    used += [w.rest_port for w in emulation.workers.values()]
    base = min(used)
    return base + ports.needed(len(emulation.clusters), len([w for w in emulation.workers if w != ""]))


def behind(plan: Plan, emulation: Emulation, *, root: Path = DATA) -> int:
    """Messages the standby accepted since the failover that the reverse flow has not copied to the old hub yet.

    Read from the reverse source connector's own committed positions
    (KIP-875: GET /connectors/<name>/offsets), which the hub's other writers
    (producers already back on it) do not move.
    """
    pair = hubs(plan)
    running = load(plan.config.stack, root)
    if running is None or pair.hub not in running.workers:
        raise EmulatorError(f"stack '{plan.config.stack}' is not failing back: no reverse flow into {pair.hub}")
    reverse = _flow(pair.standby, pair.hub, pair.forward.topics, pair.forward)
    name = mirrormaker.connector_names(reverse)["source"]
    copied = {
        (e["partition"]["topic"], int(e["partition"]["partition"])): int(e["offset"]["offset"]) + 1
        for e in connect.offsets(running.workers[pair.hub].url, name)
        if e.get("offset")
    }
    start = {_tp(k): o for k, o in state(plan.config.stack, root)["reverseFrom"].items()}
    standby_ends = ends(emulation.bootstrap()[pair.standby], emulation.admin(), pair.forward.topics)
    return sum(max(0, end - max(copied.get(tp, 0), start.get(tp, 0))) for tp, end in standby_ends.items())


def _tp(text: str) -> tuple[str, int]:
    topic, partition = text.rsplit(":", 1)
    return topic, int(partition)


def caught_up(plan: Plan, emulation: Emulation, timeout: float = CATCH_UP_TIMEOUT_S, *, root: Path = DATA) -> None:
    """Waits (bounded) until the old hub holds everything the standby accepted since the failover."""
    deadline = time.monotonic() + timeout
    while (left := behind(plan, emulation, root=root)) > 0:
        if time.monotonic() > deadline:
            raise EmulatorError(f"the old hub still lacks {left} messages the standby accepted, after {timeout:.0f} s")
        time.sleep(0.5)


def finish_failback(plan: Plan, emulation: Emulation, at_ms: int, *, root: Path = DATA, log: Log = print) -> None:
    """The hub is active again: the reverse flow stops, the hub feeds the regional flows and the standby again.

    `at_ms`: when the producers turned back to the hub; the standby gets the hub's messages from then on.
    """
    pair = hubs(plan)
    stack = plan.config.stack
    if state(stack, root).get("active") != pair.standby:
        raise EmulatorError(f"stack '{stack}' has not failed over: its hub {pair.hub} is active")
    bootstrap, admin = emulation.bootstrap(), emulation.admin()
    running = load(stack, root)
    if running is None:
        raise EmulatorError(f"stack '{stack}' is not up on the emulator")
    reverse_worker = running.workers[pair.hub]
    if is_our_process(reverse_worker.pid, Path(reverse_worker.dir)):
        stop({reverse_worker.pid: Path(reverse_worker.dir)})
    doc = json.loads((stack_dir(stack, root) / STATE).read_text())
    del doc["workers"][pair.hub]
    (stack_dir(stack, root) / STATE).write_text(json.dumps(doc, indent=2) + "\n")
    for target, flow in pair.regional.items():
        worker = running.workers[target]
        _stop_flow(worker.url, _flow(pair.standby, target, flow.topics, flow))
        start = offsets_at(
            bootstrap[pair.hub], admin, flow.topics, last_timestamps(bootstrap[target], admin, flow.topics)
        )
        names = _start_flow(worker.url, flow, emulation, start, fast=False)
        _set_connectors(stack, root, target, names)
        log(f"mirror flow into {target} fed from the hub {pair.hub} again")
    start = offsets_at(bootstrap[pair.hub], admin, pair.forward.topics, at_ms)
    names = _start_flow(running.workers[pair.standby].url, pair.forward, emulation, start, fast=True)
    _set_connectors(stack, root, pair.standby, names)
    (stack_dir(stack, root) / FAILOVER_STATE).unlink()
    log(f"the hub {pair.hub} is active again and replicates to the standby {pair.standby}")
