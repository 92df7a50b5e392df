"""Consuming exactly the messages addressed to this region, at least once."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from routing_client.contract import Contract, RoutingError

STATS_INTERVAL_MS = 1000
# Positions to store (past confirmed messages, and past skipped ones: another
# region's, with header routing) are handed to librdkafka in one call per batch
# of messages: at once when no fetched message waits, when the buffer is
# refilled, and by a background thread at most this long after they were
# reached, even while the service blocks in a handler; always before a commit,
# a rebalance and close. One call per message costs as much as the routing itself.
STORE_INTERVAL_S = 0.05
# How long close() waits for the background store thread to stop.
STOP_STORING_S = 5.0
# Messages taken from librdkafka per call when some are ready: one call per
# message costs more than the routing itself at a few hundred thousand a second.
BATCH = 500
log = logging.getLogger("routing_client")
# Route header values in the contract filter's order; None where a header is missing.
RouteValues = tuple[str | bytes | None, ...]
# What Message.headers() is typed to return (librdkafka gives the list).
Headers = dict[str, str | bytes | None] | list[tuple[str, str | bytes | None]]


@dataclass(frozen=True, slots=True)
class Received:
    """A message for this region. `redelivered`: this consumer handed it out before and it was not confirmed."""

    event: str
    message: Message
    redelivered: bool = False

    def value(self) -> bytes | None:
        return self.message.value()

    def key(self) -> bytes | None:
        return self.message.key()

    def headers(self) -> dict[str, str | bytes | None]:
        return dict(_pairs(self.message.headers()))


@dataclass(frozen=True, slots=True)
class Unroutable:
    """A message on this region's topics whose route headers name no region of the stack."""

    message: Message
    reason: str


# Received without its dataclass __init__ (three object.__setattr__ calls): poll's largest per-message cost.
_new = object.__new__
_set_event = vars(Received)["event"].__set__
_set_message = vars(Received)["message"].__set__
_set_redelivered = vars(Received)["redelivered"].__set__


class _Partition:
    """This consumer's bookkeeping for one partition it was assigned."""

    __slots__ = ("event", "gone", "handed", "partition", "pending", "stored", "topic", "unconfirmed")

    def __init__(self, topic: str, partition: int, event: str):
        self.topic = topic
        self.partition = partition
        self.event = event
        # Highest offset ever handed out: one at or below it is a redelivery.
        self.handed = -1
        # Highest offset handed out and not confirmed; -1: none.
        self.unconfirmed = -1
        # The position after the last confirmed or skipped message, and the last one given to librdkafka.
        # Written by the service's thread without a lock: a store takes what differs and never clears it.
        self.pending = -1
        self.stored = -1
        # Revoked: its next reader starts at the committed position.
        self.gone = False


# What poll compares the first message with: no partition.
_NO_PARTITION = _Partition("", -1, "")
Handler = Callable[[Received], object]
_Consumer = TypeVar("_Consumer", bound="RoutingConsumer")
UnroutableHook = Callable[[Unroutable], object]


class RoutingConsumer:
    """Reads the contract's topics and keeps the messages its header filter accepts, at least once.

    A message handed to the service counts as processed only once confirmed:
    by `confirm(received)`, or by `process`/`run` when the handler returns.
    Confirmed positions are committed in the background (every
    `auto.commit.interval.ms`, 5 s by default), by `commit()`, and by
    `close()`. Whatever was not confirmed is delivered again to the group's
    next consumer (after `close()`, a crash, or a rebalance), and to this one
    after a handler raised. Confirming a message confirms the earlier
    messages of its partition too (Kafka commits positions).

    Counters: `received` (kept and handed out), `confirmed`, `redelivered`
    (handed out again by this consumer after a handler or hook raised),
    `ignored` (fetched but addressed to another region of the stack: header
    routing makes every region pull every message), `unroutable` (route
    headers missing, malformed, or naming no region of the stack; each also
    goes to `on_unroutable`), `fetched_bytes`, the key and value bytes of
    the messages librdkafka fetched, kept or not, and `wire_bytes`, every
    byte the brokers sent this consumer on its fetch connections (Kafka
    protocol: record batches with their headers and framing, fetch
    responses, metadata), both as of the last statistics report; `errors`
    (Kafka errors raised by `poll`), and `lag`, per (topic, partition) of
    this consumer, how many messages the group's committed position is
    behind the partition's end, as of the last statistics report. They are
    plain attributes kept up as messages pass and statistics arrive (once a
    second), so reading them costs nothing; `counters()` is a snapshot to
    export.
    """

    def __init__(
        self,
        contract: Mapping[str, Any] | str,
        bootstrap: Mapping[str, str],
        group_id: str,
        events: Iterable[str] | None = None,
        config: Mapping[str, Any] | None = None,
        on_unroutable: UnroutableHook | None = None,
    ):
        """`events` limits the subscription (default: every event of the contract).

        `config` is added to (and may override) the librdkafka consumer
        settings; statistics are reported every second unless
        `statistics.interval.ms` says otherwise. Offsets are stored only on
        confirmation (`enable.auto.offset.store` false); setting it true
        makes the consumer at-most-once again. `on_unroutable` (also settable
        as an attribute) receives each unroutable message, for example to
        send it to a dead-letter topic; if it raises, the message is
        delivered again.
        """
        self.contract = Contract.from_dict(contract)
        events = list(self.contract.consume) if events is None else list(events)
        unknown = [e for e in events if e not in self.contract.consume]
        if unknown or not events:
            raise RoutingError(
                f"events {', '.join(unknown) or '(none)'} are not consumed per the contract; "
                f"known: {', '.join(self.contract.consume)}"
            )
        self._topic_event = {self.contract.consume[e]: e for e in events}
        self._filter_keys = tuple(self.contract.header_filter)
        self._filtering = bool(self._filter_keys)
        self._filter_index = {k: i for i, k in enumerate(self._filter_keys)}
        self._mine: RouteValues = tuple(v.encode() for v in self.contract.header_filter.values())
        # The route header values of every region of the stack; what else comes is unroutable.
        self._known: frozenset[RouteValues] = frozenset(
            tuple(_encoded(r.headers.get(k)) for k in self._filter_keys)
            for dests in self.contract.produce.values()
            for r in dests.values()
        )
        self.on_unroutable = on_unroutable
        self.received = 0
        self.confirmed = 0
        self.redelivered = 0
        self.ignored = 0
        self.unroutable = 0
        self.fetched_bytes = 0
        self.wire_bytes = 0
        self.errors = 0
        self.lag: dict[tuple[str, int], int] = {}
        self._fetching = False
        self._assigned = threading.Event()
        # The route headers exactly as the client's producers write them (no other headers, filter order):
        # a tuple compare settles most messages without looking at each header.
        self._mine_pairs = tuple(zip(self._filter_keys, self._mine, strict=True))
        self._known_pairs = frozenset(tuple(zip(self._filter_keys, k, strict=True)) for k in self._known)
        self._parts: dict[tuple[str, int], _Partition] = {}
        # Some _Partition holds a position to store: set after the position is written, cleared before
        # positions are read, so a store never misses one.
        self._pending = False
        # One store at a time: the service's thread and the background one.
        self._storing = threading.Lock()
        self._closed = False
        # Fetched, not yet looked at; dropped for partitions revoked or rewound.
        self._buffer: deque[Message] = deque()
        # The message poll returned last, so confirming it looks nothing up.
        self._last: Received | None = None
        self._last_part = _NO_PARTITION
        self._last_offset = -1
        self._consumer = Consumer(
            {
                "bootstrap.servers": self.contract.bootstrap_of(self.contract.consume_cluster, bootstrap),
                "group.id": group_id,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
                "enable.auto.offset.store": False,
                "statistics.interval.ms": STATS_INTERVAL_MS,
                "stats_cb": self._on_stats,
                **(config or {}),
            }
        )
        self._poll = self._consumer.poll
        self._consume = self._consumer.consume
        self._store = self._consumer.store_offsets
        self._consumer.subscribe(
            list(self._topic_event), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_revoke
        )
        self._stop = threading.Event()
        # Holds the consumer weakly: a consumer nobody closed can still be collected.
        self._background = threading.Thread(
            target=_store_in_background,
            args=(weakref.ref(self), self._stop),
            name="routing-consumer-store",
            daemon=True,
        )
        self._background.start()

    @property
    def assigned(self) -> bool:
        """True once the group has given this consumer its partitions."""
        return self._assigned.is_set()

    @property
    def fetching(self) -> bool:
        """True once every assigned partition is being fetched, as of the last statistics report.

        From then on, whatever is produced to this region's topics is read,
        even with `auto.offset.reset` set to latest.
        """
        return self._fetching

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned.set()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Still ours here: what was confirmed is stored, and committed with the revocation.
        self._store_pending()
        gone = {(p.topic, p.partition) for p in partitions}
        if self._buffer:
            self._drop(lambda m: (m.topic(), m.partition()) in gone)
        # Another member reads them from the committed positions: what was not confirmed goes there.
        for p in partitions:
            part = self._parts.pop((p.topic, p.partition), None)
            if part is not None:
                part.gone = True
        if self._last_part.gone:
            # A confirm of the last message handed out finds it gone: its next reader gets it again.
            self._last_part = _NO_PARTITION
            self._last = None

    def _drop(self, which: Callable[[Message], bool]) -> None:
        """Drops buffered messages, in place: a poll in progress (revocations come during polls) holds the buffer."""
        kept = [m for m in self._buffer if not which(m)]
        self._buffer.clear()
        self._buffer.extend(kept)

    def _on_stats(self, text: str) -> None:
        stats = json.loads(text)
        partitions = [
            p for t in stats.get("topics", {}).values() for pid, p in t.get("partitions", {}).items() if int(pid) >= 0
        ]
        self.fetched_bytes = sum(p.get("rxbytes", 0) for p in partitions)
        # Connections to the brokers themselves; the bootstrap and group
        # coordinator entries carry no fetches.
        self.wire_bytes = sum(
            b.get("rxbytes", 0) for b in stats.get("brokers", {}).values() if b.get("source") == "learned"
        )
        # librdkafka's consumer_lag: the partition's end (last stable offset) minus the
        # committed offset; -1 while unknown.
        self.lag = {
            (topic, int(pid)): p["consumer_lag"]
            for topic, t in stats.get("topics", {}).items()
            for pid, p in t.get("partitions", {}).items()
            if int(pid) >= 0 and p.get("desired") and p.get("consumer_lag", -1) >= 0
        }
        assigned = [p for p in partitions if p.get("desired")]
        self._fetching = self.assigned and bool(assigned) and all(p.get("fetch_state") == "active" for p in assigned)

    def counters(self) -> dict[str, int]:
        """The counters as one flat map for a metrics exporter; `lag` is the sum over the partitions."""
        return {
            "received": self.received,
            "confirmed": self.confirmed,
            "redelivered": self.redelivered,
            "ignored": self.ignored,
            "unroutable": self.unroutable,
            "errors": self.errors,
            "lag": sum(self.lag.values()),
            "fetched_bytes": self.fetched_bytes,
        }

    def _route_values(self, headers: Headers | None) -> RouteValues | None:
        """The route headers' values in filter order; None if one appears twice (malformed)."""
        values: list[str | bytes | None] = [None] * len(self._filter_keys)
        for k, v in _pairs(headers):
            i = self._filter_index.get(k)
            if i is not None:
                if values[i] is not None:
                    return None
                values[i] = v
        return tuple(values)

    def poll(self, timeout: float) -> Received | None:
        """The next message for this region, or None if none came within `timeout`.

        The message is not confirmed: pass it to `confirm()` once processed.
        Messages addressed elsewhere are counted in `ignored` and skipped;
        unroutable ones are counted and given to `on_unroutable`. A Kafka
        error on a message is raised as KafkaException.
        """
        if self._closed:
            raise RuntimeError("RoutingConsumer is closed")
        # One loop, no call per message but librdkafka's accessors: at a few hundred thousand
        # messages a second every Python call shows.
        buffer = self._buffer
        filtering = self._filtering
        deadline = -1.0
        while True:
            if not buffer:
                if deadline < 0:
                    deadline = time.monotonic() + timeout
                if not self._fill(max(0.0, deadline - time.monotonic())):
                    return None
                continue
            msg = buffer.popleft()
            if msg.error() is not None:
                self._error(msg)
                continue
            if filtering:
                headers = msg.headers()
                pairs = tuple(headers) if headers else ()
                if pairs != self._mine_pairs:
                    if pairs in self._known_pairs:
                        self.ignored += 1
                        self._skip(msg)
                        continue
                    # Other headers too, or route headers out of order, twice, or naming no region.
                    route = self._route_values(headers)
                    if route != self._mine:
                        if route in self._known:
                            self.ignored += 1
                        else:
                            self._unroutable(msg)
                        self._skip(msg)
                        continue
            break
        # Handed to the service, pending until confirmed.
        topic = msg.topic() or ""
        partition = msg.partition() or 0
        offset = msg.offset() or 0
        part = self._last_part
        # Messages come in runs from one partition: most need no lookup.
        if partition != part.partition or topic != part.topic:
            part = self._part(topic, partition)
        got = _new(Received)
        _set_event(got, part.event)
        _set_message(got, msg)
        if part.handed >= offset:
            self.redelivered += 1
            _set_redelivered(got, True)
        else:
            part.handed = offset
            _set_redelivered(got, False)
        part.unconfirmed = offset
        self.received += 1
        self._last = got
        self._last_part = part
        self._last_offset = offset
        return got

    def _fill(self, timeout: float) -> bool:
        """Buffers what librdkafka has ready, else waits up to `timeout` for one message; False if none came."""
        # What was confirmed or skipped since the last batch, in one call.
        if self._pending:
            self._store_pending()
        ready = self._consume(BATCH, 0)
        if ready:
            self._buffer.extend(ready)
            return True
        one = self._poll(timeout)
        if one is None:
            return False
        self._buffer.append(one)
        return True

    def _error(self, msg: Message) -> None:
        err = msg.error()
        if err is not None and err.code() != KafkaError._PARTITION_EOF:
            self.errors += 1
            raise KafkaException(err)

    def _part(self, topic: str, partition: int) -> _Partition:
        part = self._parts.get((topic, partition))
        if part is None:
            part = self._parts[(topic, partition)] = _Partition(topic, partition, self._topic_event[topic])
        return part

    def _skip(self, msg: Message) -> None:
        """Moves the group's position past a message that is not the service's, unless one before it is pending."""
        part = self._part(msg.topic() or "", msg.partition() or 0)
        if part.unconfirmed < 0:
            part.pending = (msg.offset() or 0) + 1
            self._pending = True

    def _store_pending(self) -> None:
        """Hands every pending position to librdkafka, which commits them in the background."""
        with self._storing:
            if not self._pending:
                return
            self._pending = False
            pending = []
            parts = []
            # A copy: the service's thread may add a partition meanwhile.
            for part in list(self._parts.values()):
                position = part.pending
                if position >= 0 and position != part.stored:
                    pending.append(TopicPartition(part.topic, part.partition, position))
                    parts.append(part)
                    part.stored = position
            if not pending:
                return
            try:
                self._store_positions(pending)
            except BaseException:
                # Not stored: the next store tries them again.
                for part in parts:
                    part.stored = -2
                self._pending = True
                raise

    def _store_positions(self, pending: list[TopicPartition]) -> None:
        try:
            self._store(offsets=pending)
        except KafkaException as e:
            # A partition no longer ours (_STATE, _UNKNOWN_PARTITION): its next reader starts at the committed position.
            if e.args[0].code() not in (KafkaError._STATE, KafkaError._UNKNOWN_PARTITION, KafkaError._INVALID_ARG):
                raise
            for tp in pending:
                # Store what is still ours one by one.
                try:
                    self._store(offsets=[tp])
                except KafkaException as one:
                    if one.args[0].code() not in (
                        KafkaError._STATE,
                        KafkaError._UNKNOWN_PARTITION,
                        KafkaError._INVALID_ARG,
                    ):
                        raise

    def _unroutable(self, msg: Message) -> None:
        self.unroutable += 1
        reason = self._why(msg)
        hook = self.on_unroutable
        if hook is None:
            if self.unroutable == 1:
                log.warning(
                    "unroutable message on %s [%s] at %s: %s; set RoutingConsumer.on_unroutable to handle "
                    "them (counted in .unroutable)",
                    msg.topic(),
                    msg.partition(),
                    msg.offset(),
                    reason,
                )
            return
        try:
            hook(Unroutable(msg, reason))
        except BaseException:
            self._rewind(msg)
            raise

    def _why(self, msg: Message) -> str:
        headers = list(_pairs(msg.headers()))
        values = {k: v for k, v in headers if k in self._filter_index}
        twice = sorted({k for k, _ in headers if k in self._filter_index and sum(k == j for j, _ in headers) > 1})
        if twice:
            return f"route header{'s' if len(twice) > 1 else ''} {', '.join(twice)} given more than once"
        missing = [k for k in self._filter_keys if values.get(k) is None]
        if missing:
            return f"no {', '.join(missing)} header"
        shown = ", ".join(f"{k}={_text(values[k])!r}" for k in self._filter_keys)
        return f"{shown} names no region of the stack"

    def confirm(self, received: Received) -> None:
        """Marks `received` (and the messages before it in its partition) processed; committed soon after.

        A message whose partition has meanwhile moved to another consumer is
        not confirmed: that consumer gets it again.
        """
        if received is self._last:
            part = self._last_part
            offset = self._last_offset
        else:
            msg = received.message
            found = self._parts.get((msg.topic() or "", msg.partition() or 0))
            if found is None:
                return
            part = found
            offset = msg.offset() or 0
        if part.gone:
            # Revoked since it was handed out: its next reader gets it again.
            return
        # Replaces a skipped position still pending for the partition: that one is behind it.
        part.pending = offset + 1
        self._pending = True
        # Stored at once when nothing fetched waits, else with the next batch or by the background
        # thread within STORE_INTERVAL_S (the service may block in its next handler).
        if not self._buffer:
            self._store_pending()
        if part.unconfirmed <= offset:
            part.unconfirmed = -1
        self.confirmed += 1

    def _rewind(self, msg: Message) -> None:
        """Fetches from `msg` again: a message whose processing failed comes back."""
        tp = (msg.topic() or "", msg.partition() or 0)
        offset = msg.offset() or 0
        part = self._parts.get(tp)
        # Messages before it that the service holds unconfirmed stay pending: it comes again before
        # anything after it, and is pending again from then on.
        if part is not None and part.unconfirmed >= offset:
            part.unconfirmed = -1
        # What was fetched after it comes again from the new position.
        self._drop(lambda m: (m.topic(), m.partition()) == (msg.topic(), msg.partition()))
        # Not ours any more: the committed position, before it, is where its next reader starts.
        with contextlib.suppress(KafkaException):
            self._consumer.seek(TopicPartition(tp[0], tp[1], offset))

    def process(self, handler: Handler, timeout: float) -> bool:
        """Hands the next message for this region to `handler` and confirms it when the handler returns.

        Returns False if no message came within `timeout`. If the handler
        raises, the message is not confirmed, is delivered again, and the
        exception propagates.
        """
        got = self.poll(timeout)
        if got is None:
            return False
        try:
            handler(got)
        except BaseException:
            self._rewind(got.message)
            raise
        self.confirm(got)
        return True

    def run(self, handler: Handler, stop: threading.Event | None = None, poll_timeout: float = 0.5) -> None:
        """`process` in a loop until `stop` is set (checked at least every `poll_timeout`) or the handler raises."""
        while stop is None or not stop.is_set():
            self.process(handler, poll_timeout)

    def commit(self) -> None:
        """Commits what was confirmed now, synchronously (the background commit does it within seconds)."""
        self._store_pending()
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:
                raise

    def close(self) -> None:
        """Commits what was confirmed and leaves the group; what was not confirmed goes to the next consumer."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._background.join(STOP_STORING_S)
        self._store_pending()
        self._consumer.close()

    def __enter__(self: _Consumer) -> _Consumer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _store_in_background(consumer: weakref.ref[RoutingConsumer], stop: threading.Event) -> None:
    """Stores pending positions every STORE_INTERVAL_S, so what was confirmed is committed in the background
    even while the service blocks (in a handler, say) before its next poll."""
    while not stop.wait(STORE_INTERVAL_S):
        alive = consumer()
        if alive is None:
            return
        if alive._pending:
            try:
                alive._store_pending()
            except (KafkaException, RuntimeError) as e:
                alive.errors += 1
                log.error("storing confirmed positions failed (the next store tries again): %s", e)
        del alive


def _encoded(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


def _pairs(headers: Headers | None) -> Iterable[tuple[str, str | bytes | None]]:
    if isinstance(headers, dict):
        return headers.items()
    return headers or ()


def _text(value: str | bytes | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
