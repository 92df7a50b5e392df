"""Turning from the active hub to the standby (and back): producer and consumer, on command or on an outage.

A contract with a `failover` section names a second pair of clusters (the
standby hub, or for a region that reads its own cluster, that same cluster)
and how long the active one may stay unreachable before its clients turn
there. `FailoverProducer` and `FailoverConsumer` wrap the routing producer
and consumer of the side in use:

- A watch thread asks the side in use for its metadata every
  `PROBE_INTERVAL_S`; once no answer came for `afterSeconds`, the next call of
  the caller's thread switches sides. `failover()` and `failback()` switch
  when told, whatever the watch says.
- The producer gives up on what the old side did not acknowledge and sends it
  again on the new side (counted in `resent`: the old side may have written
  some of it before it went, so the standby may hold them twice). A failure
  that sending again cannot mend (a message too large, say) is raised as a
  DeliveryError, as the routing producer does.
- The consumer leaves the old side and joins the same group on the new one,
  which resumes from the group's offsets MirrorMaker 2 (checkpoints with
  `sync.group.offsets.enabled`) translated onto it: at or before where the
  group was, never past it. A partition without a synced offset is read from
  its start. What it hands out again is recognised by the last message it had
  handed out of the partition (same timestamp, key and value; MirrorMaker 2
  keeps all three), marked `redelivered` and counted in `duplicates`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka.admin import AdminClient

from routing_client.consumer import Handler, Received, RoutingConsumer, UnroutableHook
from routing_client.contract import Contract, RoutingError
from routing_client.producer import DeliveryCallback, DeliveryError, FailedMessage, RoutingProducer

PRIMARY = "primary"
STANDBY = "standby"
PROBE_INTERVAL_S = 0.5
PROBE_TIMEOUT_S = 1.0
# How long a blocking call waits at most before it looks at the watch again.
TICK_S = 0.2
# What a producer on the side it leaves still gets to settle when told to move (the old side
# answers); the rest is sent again. A side that stopped answering gets only a moment to report.
SETTLE_S = 1.0
GONE_SETTLE_S = 0.1
# Errors of a message the old side did not take, which the new side can: they are sent again.
RESENDABLE = frozenset(
    {
        KafkaError._PURGE_QUEUE,
        KafkaError._PURGE_INFLIGHT,
        KafkaError._MSG_TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._TIMED_OUT,
    }
)
Clock = Callable[[], float]
_Self = TypeVar("_Self")


class Outage:
    """Whether a cluster has been unreachable for `after_seconds`, from probe outcomes (pure; no I/O)."""

    def __init__(self, after_seconds: float, clock: Clock = time.monotonic):
        if not 0 < after_seconds < float("inf"):
            raise RoutingError(f"failover afterSeconds {after_seconds!r} must be a positive number of seconds")
        self.after_seconds = after_seconds
        self._clock = clock
        self._last_ok = clock()

    def observe(self, reachable: bool) -> None:
        if reachable:
            self._last_ok = self._clock()

    def restart(self) -> None:
        """A new side: its time starts now."""
        self._last_ok = self._clock()

    @property
    def unreachable_for(self) -> float:
        return self._clock() - self._last_ok

    @property
    def due(self) -> bool:
        return self.unreachable_for >= self.after_seconds


# The client settings a probe needs to be let in as the client is: its protocol, login and TLS.
LOGIN_SETTINGS = ("security.protocol", "sasl.", "ssl.", "oauth_cb", "enable.ssl.certificate.verification")


def login_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a client's `config` with which a probe logs in as that client (nothing else of it)."""
    return {k: v for k, v in config.items() if k.startswith(LOGIN_SETTINGS)}


class Watch:
    """Probes one cluster's metadata in a thread and keeps an Outage of it up to date.

    `config` must carry the client's login (`login_settings`): a broker that
    wants SASL or TLS refuses a probe without it, which would read as an outage.
    """

    def __init__(self, bootstrap: str, outage: Outage, config: Mapping[str, Any] | None = None):
        self.outage = outage
        self.bootstrap = bootstrap
        self._stop = threading.Event()
        self._admin = AdminClient(
            {
                "bootstrap.servers": bootstrap,
                "socket.connection.setup.timeout.ms": int(PROBE_TIMEOUT_S * 1000),
                "log_level": 0,
                **(config or {}),
            }
        )
        self._thread = threading.Thread(target=self._run, name=f"failover watch {bootstrap}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._admin.list_topics(timeout=PROBE_TIMEOUT_S)
                self.outage.observe(True)
            except KafkaException:
                self.outage.observe(False)
            self._stop.wait(PROBE_INTERVAL_S)

    def stop(self) -> None:
        """Ends the watch; a probe under way (at most PROBE_TIMEOUT_S) finishes in its thread, unwaited."""
        self._stop.set()


@dataclass(frozen=True)
class Sides:
    """The contract (exported form) of each side, and the cluster each side's clients use."""

    contract: Contract
    docs: Mapping[str, Mapping[str, Any]]
    after_seconds: float

    @classmethod
    def of(cls, contract: Mapping[str, Any] | str, after_seconds: float | None) -> Sides:
        parsed = Contract.from_dict(contract)
        failover = parsed.failover
        if failover is None:
            raise RoutingError(
                "routing contract has no failover section: its stack has no standby hub "
                "(multicloud-kafka:standbyHub); use RoutingProducer/RoutingConsumer"
            )
        doc = dict(_as_dict(contract))
        standby = {**doc, "produceCluster": failover.produce_cluster, "consumeCluster": failover.consume_cluster}
        return cls(
            parsed, {PRIMARY: doc, STANDBY: standby}, failover.after_seconds if after_seconds is None else after_seconds
        )

    def cluster(self, side: str, role: str) -> str:
        return str(self.docs[side][role])


def _as_dict(contract: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """The exported form as a map (Contract.from_dict has checked it already)."""
    if isinstance(contract, str):
        doc: Mapping[str, Any] = json.loads(contract)
        return doc
    return contract


def _other(side: str) -> str:
    return STANDBY if side == PRIMARY else PRIMARY


class _Tracked:
    """A caller's delivery callback, with what is needed to send its message again on the other side."""

    __slots__ = ("destination", "event", "headers", "key", "on_delivery", "owner", "value")

    def __init__(
        self,
        owner: FailoverProducer,
        event: str,
        destination: str,
        value: bytes | str,
        key: bytes | str | None,
        headers: Mapping[str, str | bytes] | None,
        on_delivery: DeliveryCallback,
    ):
        self.owner, self.event, self.destination = owner, event, destination
        self.value, self.key, self.headers, self.on_delivery = value, key, headers, on_delivery

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None and self.owner._leaving and err.code() in RESENDABLE:
            self.owner._again.append(self)
            return
        self.on_delivery(err, msg)


class FailoverProducer:
    """A RoutingProducer on the side in use, which turns to the other side on an outage or when told.

    Counters: those of the routing producer in use (`produced` and `errors`
    add up over both sides), `failovers` (switches of side) and `resent`
    (messages sent again on the new side because the old one had not
    acknowledged them). `active` is PRIMARY or STANDBY.
    """

    def __init__(
        self,
        contract: Mapping[str, Any] | str,
        bootstrap: Mapping[str, str],
        config: Mapping[str, Any] | None = None,
        *,
        after_seconds: float | None = None,
        watch: bool = True,
        clock: Clock = time.monotonic,
    ):
        """`after_seconds` overrides the contract's afterSeconds; `watch=False` switches only when told."""
        self._sides = Sides.of(contract, after_seconds)
        self.contract = self._sides.contract
        self._bootstrap = dict(bootstrap)
        self._config = dict(config or {})
        self._outage = Outage(self._sides.after_seconds, clock)
        self._watching = watch
        self.active = PRIMARY
        self.failovers = 0
        self.resent = 0
        self._sent_before = 0
        self._failed_before = 0
        # Failures sending again cannot mend, raised by the next flush.
        self._kept: list[FailedMessage] = []
        self._leaving = False
        self._again: list[_Tracked] = []
        self._producer = self._open(PRIMARY)
        self._watch = self._watch_of(PRIMARY)

    def _open(self, side: str) -> RoutingProducer:
        return RoutingProducer(self._sides.docs[side], self._bootstrap, self._config)

    def _watch_of(self, side: str) -> Watch | None:
        if not self._watching:
            return None
        self._outage.restart()
        cluster = self._sides.cluster(side, "produceCluster")
        return Watch(self.contract.bootstrap_of(cluster, self._bootstrap), self._outage, login_settings(self._config))

    @property
    def cluster(self) -> str:
        """The cluster key produced to now."""
        return self._sides.cluster(self.active, "produceCluster")

    @property
    def sent(self) -> int:
        return self._sent_before + self._producer.sent

    @property
    def failed(self) -> int:
        return self._failed_before + self._producer.failed

    def counters(self) -> dict[str, int]:
        return {
            "produced": self.sent,
            "errors": self.failed,
            "queued": len(self._producer),
            "failovers": self.failovers,
            "resent": self.resent,
        }

    def failover(self) -> None:
        """Turns to the standby side now (nothing if already there)."""
        if self.active == PRIMARY:
            self._switch(STANDBY, SETTLE_S)

    def failback(self) -> None:
        """Turns back to the primary side now (nothing if already there); see docs/emulator.md for the procedure."""
        if self.active == STANDBY:
            self._switch(PRIMARY, SETTLE_S)

    def _check(self) -> None:
        if self._watch is not None and self._outage.due:
            self._switch(_other(self.active), GONE_SETTLE_S)

    def _switch(self, side: str, settle: float) -> None:
        old, watch = self._producer, self._watch
        if watch is not None:
            watch.stop()
        self._leaving = True
        failed: list[FailedMessage] = []
        try:
            old.close(settle)
        except DeliveryError as e:
            failed = list(e.failed)
        finally:
            self._leaving = False
        self._sent_before += old.sent
        self._failed_before += old.failed
        self.active = side
        self.failovers += 1
        self._producer = self._open(side)
        self._watch = self._watch_of(side)
        again, self._again = self._again, []
        for t in again:
            # Tracked again: a later switch sends it once more if this side does not take it either.
            self._producer.send(t.event, t.destination, t.value, t.key, t.headers, t)
        resend = [f for f in failed if f.error.code() in RESENDABLE]
        self._kept += [f for f in failed if f.error.code() not in RESENDABLE]
        for f in resend:
            # The route's own headers are among them; send() puts the route's back, as it does for any caller's.
            headers = {k: v for k, v in f.headers if v is not None}
            self._producer.send(f.event, f.destination, f.value or b"", f.key, headers)
        # A message sent again counts once in `produced`, and not in `errors`: it was not lost.
        self._sent_before -= len(again) + len(resend)
        self._failed_before -= len(resend)
        self.resent += len(again) + len(resend)

    def send(
        self,
        event: str,
        destination: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """As RoutingProducer.send, on the side in use; switches first if the watch says so."""
        self._check()
        if on_delivery is not None:
            on_delivery = _Tracked(self, event, destination, value, key, headers, on_delivery)
        self._producer.send(event, destination, value, key, headers, on_delivery)

    def poll(self, timeout: float = 0) -> int:
        self._check()
        return self._producer.poll(timeout)

    def __len__(self) -> int:
        return len(self._producer)

    def flush(self, timeout: float = 30) -> int:
        """As RoutingProducer.flush, switching sides meanwhile if the watch says so; returns how many are still queued."""
        deadline = time.monotonic() + timeout
        while True:
            self._check()
            try:
                left = self._producer.flush(min(TICK_S, max(0.0, deadline - time.monotonic())))
            except DeliveryError as e:
                self._kept.extend(e.failed)
                left = len(self._producer)
            if left == 0 or time.monotonic() >= deadline:
                break
        kept, self._kept = self._kept, []
        if kept:
            raise DeliveryError(kept, left)
        return left

    def close(self, timeout: float = 30) -> None:
        """Flushes (switching sides if due meanwhile), then closes the producer in use; raises DeliveryError as flush."""
        try:
            self.flush(timeout)
        finally:
            if self._watch is not None:
                self._watch.stop()
                self._watch = None
            self._producer.close(SETTLE_S)

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


Fingerprint = tuple[int, bytes | None, bytes | None]


def fingerprint(msg: Message) -> Fingerprint:
    """What identifies a message on both hubs: MirrorMaker 2 keeps timestamp, key and value, not the offset."""
    return (msg.timestamp()[1], msg.key(), msg.value())


class Replay:
    """Which messages of the new side a consumer already handed out on the old one (pure; no I/O).

    Per partition: the latest timestamp handed out on the old side, and the
    messages handed out with exactly that timestamp (a millisecond can hold
    several). On the new side, a message older than that timestamp is a
    duplicate, and so is one of those messages; another message of that same
    timestamp is not (it came after them and was never handed out). The first
    message later than it ends the replay of its partition, even if some of
    those never came (they had not reached the new side). Timestamps must not
    go back within a partition (one producer per partition, or log-append
    time), as Kafka's time index assumes too.
    """

    def __init__(self, last: Mapping[tuple[str, int], tuple[int, Iterable[Fingerprint]]]):
        self.pending = {tp: (ts, set(fps)) for tp, (ts, fps) in last.items()}

    def seen(self, tp: tuple[str, int], fp: Fingerprint) -> bool:
        last = self.pending.get(tp)
        if last is None:
            return False
        ts, handed = last
        if fp[0] < ts:
            return True
        if fp[0] > ts:
            del self.pending[tp]
            return False
        if fp not in handed:
            return False
        handed.discard(fp)
        if not handed:
            del self.pending[tp]
        return True


class FailoverConsumer:
    """A RoutingConsumer on the side in use, which turns to the other side on an outage or when told.

    Only a region that reads a hub moves; one that reads its own cluster
    (regional-clusters) keeps reading it, and its contract's failover section
    says so. Counters: those of the routing consumer in use (`received`,
    `confirmed` add up over both sides), `failovers` and `duplicates`
    (messages handed out again after a switch, also marked `redelivered`).
    """

    def __init__(
        self,
        contract: Mapping[str, Any] | str,
        bootstrap: Mapping[str, str],
        group_id: str,
        events: Iterable[str] | None = None,
        config: Mapping[str, Any] | None = None,
        on_unroutable: UnroutableHook | None = None,
        *,
        after_seconds: float | None = None,
        watch: bool = True,
        clock: Clock = time.monotonic,
    ):
        self._sides = Sides.of(contract, after_seconds)
        self.contract = self._sides.contract
        self._args = (dict(bootstrap), group_id, None if events is None else list(events))
        self._config = dict(config or {})
        self._on_unroutable = on_unroutable
        self.moves = self._sides.cluster(PRIMARY, "consumeCluster") != self._sides.cluster(STANDBY, "consumeCluster")
        self._outage = Outage(self._sides.after_seconds, clock)
        self._watching = watch and self.moves
        self.active = PRIMARY
        self.failovers = 0
        self.duplicates = 0
        self._before = dict.fromkeys(
            ("received", "confirmed", "redelivered", "ignored", "unroutable", "errors", "fetched_bytes", "wire_bytes"),
            0,
        )
        # Per partition: the latest timestamp handed out, and the messages handed out with it.
        self._last: dict[tuple[str, int], tuple[int, list[Message]]] = {}
        self._replay = Replay({})
        self._consumer = self._open(PRIMARY, self._config)
        self._watch = self._watch_of(PRIMARY)

    def _open(self, side: str, config: Mapping[str, Any]) -> RoutingConsumer:
        bootstrap, group_id, events = self._args
        return RoutingConsumer(self._sides.docs[side], bootstrap, group_id, events, config, self._on_unroutable)

    def _watch_of(self, side: str) -> Watch | None:
        if not self._watching:
            return None
        self._outage.restart()
        cluster = self._sides.cluster(side, "consumeCluster")
        return Watch(self.contract.bootstrap_of(cluster, self._args[0]), self._outage, login_settings(self._config))

    @property
    def consumer(self) -> RoutingConsumer:
        """The routing consumer in use (its `lag`, ... are those of the side in use)."""
        return self._consumer

    @property
    def fetching(self) -> bool:
        """As RoutingConsumer.fetching, on the side in use."""
        return self._consumer.fetching

    def _total(self, name: str) -> int:
        value: int = getattr(self._consumer, name)
        return self._before[name] + value

    @property
    def received(self) -> int:
        return self._total("received")

    @property
    def confirmed(self) -> int:
        return self._total("confirmed")

    @property
    def ignored(self) -> int:
        return self._total("ignored")

    @property
    def unroutable(self) -> int:
        return self._total("unroutable")

    @property
    def fetched_bytes(self) -> int:
        return self._total("fetched_bytes")

    @property
    def wire_bytes(self) -> int:
        return self._total("wire_bytes")

    @property
    def cluster(self) -> str:
        return self._sides.cluster(self.active, "consumeCluster")

    def counters(self) -> dict[str, int]:
        now = self._consumer.counters()
        # Lag is of the side in use; the rest adds up over both sides.
        out = {k: v + (self._before.get(k, 0) if k != "lag" else 0) for k, v in now.items()}
        out.update(failovers=self.failovers, duplicates=self.duplicates)
        return out

    def failover(self) -> None:
        """Turns to the standby side now (nothing if already there, or if this region does not move)."""
        if self.active == PRIMARY and self.moves:
            self._switch(STANDBY, reachable=True)

    def failback(self) -> None:
        """Turns back to the primary side now (nothing if already there)."""
        if self.active == STANDBY:
            self._switch(PRIMARY, reachable=True)

    def _check(self) -> None:
        if self._watch is not None and self._outage.due:
            self._switch(_other(self.active), reachable=False)

    def _switch(self, side: str, reachable: bool) -> None:
        old, watch = self._consumer, self._watch
        if watch is not None:
            watch.stop()
        for k in self._before:
            self._before[k] += getattr(old, k)
        last = {tp: (ts, [fingerprint(m) for m in handed]) for tp, (ts, handed) in self._last.items()}
        if reachable:
            # Commits what was confirmed, for MirrorMaker 2 to translate onto the other side.
            old.close()
        else:
            # Its commit cannot reach a cluster that is gone; librdkafka would retry it for a while.
            threading.Thread(target=old.close, name="failover close", daemon=True).start()
        self.active = side
        self.failovers += 1
        self._last = {}
        self._replay = Replay(last)
        # A partition whose group offset was not synced is read from its start: again, never skipped.
        self._consumer = self._open(side, {**self._config, "auto.offset.reset": "earliest"})
        self._watch = self._watch_of(side)

    def _mark(self, got: Received) -> Received:
        msg = got.message
        tp = (msg.topic() or "", msg.partition() or 0)
        ts = msg.timestamp()[1]
        latest = self._last.get(tp)
        if latest is not None and latest[0] == ts:
            latest[1].append(msg)
        else:
            self._last[tp] = (ts, [msg])
        if self._replay.pending and self._replay.seen(tp, fingerprint(msg)):
            self.duplicates += 1
            return Received(got.event, msg, True)
        return got

    def poll(self, timeout: float) -> Received | None:
        """As RoutingConsumer.poll, switching sides meanwhile if the watch says so."""
        deadline = time.monotonic() + timeout
        while True:
            self._check()
            got = self._consumer.poll(min(TICK_S, max(0.0, deadline - time.monotonic())))
            if got is not None:
                return self._mark(got)
            if time.monotonic() >= deadline:
                return None

    def confirm(self, received: Received) -> None:
        self._consumer.confirm(received)

    def process(self, handler: Handler, timeout: float) -> bool:
        """As RoutingConsumer.process, switching sides meanwhile if the watch says so."""
        deadline = time.monotonic() + timeout
        while True:
            self._check()
            if self._consumer.process(
                lambda got: handler(self._mark(got)), min(TICK_S, max(0.0, deadline - time.monotonic()))
            ):
                return True
            if time.monotonic() >= deadline:
                return False

    def run(self, handler: Handler, stop: threading.Event | None = None, poll_timeout: float = 0.5) -> None:
        while stop is None or not stop.is_set():
            self.process(handler, poll_timeout)

    def commit(self) -> None:
        self._consumer.commit()

    def close(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        self._consumer.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
