"""Producing an event addressed to a destination region, with every failed delivery reported."""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from confluent_kafka import KafkaError, Message, Producer

from routing_client.contract import Contract, RoutingError

QUEUE_FULL_WAIT_S = 30
# Delivery reports are served every this many sends (and by poll, flush and close): serving them after
# every send cost as much as the rest of send.
SERVE_EVERY = 64
CLOSE_TIMEOUT_S = 30
# What a forgotten producer gets at exit or garbage collection to deliver what it still holds.
ABANDONED_FLUSH_S = 30
# Settings through which the caller would take every delivery report away from the producer.
OWN_CALLBACKS = ("on_delivery", "delivery.report.callback", "dr_cb", "dr_msg_cb")

DeliveryCallback = Callable[[KafkaError | None, Message], None]
Headers = list[tuple[str, str | bytes | None]]
log = logging.getLogger("routing_client")
_Producer = TypeVar("_Producer", bound="RoutingProducer")


@dataclass(frozen=True)
class FailedMessage:
    """A message Kafka did not acknowledge: everything needed to send it again, and why it failed."""

    event: str
    destination: str
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, str | bytes | None], ...]
    error: KafkaError

    @property
    def reason(self) -> str:
        return f"{self.error.str()} ({self.error.name()})"


class DeliveryError(Exception):
    """Messages sent without the caller's own `on_delivery` that Kafka did not acknowledge.

    `failed` holds each of them (event, destination, topic, key, value,
    headers, error), in the order the failures were reported, so a service
    can send them again; `reasons` counts them by reason; `still_queued` is
    how many other messages were not yet settled when the error was raised.
    """

    def __init__(self, failed: Sequence[FailedMessage], still_queued: int = 0):
        self.failed = tuple(failed)
        self.still_queued = still_queued
        self.reasons = Counter(f.reason for f in self.failed)
        why = "; ".join(f"{n} {reason}" for reason, n in self.reasons.most_common())
        queued = f"; {still_queued} more still queued" if still_queued else ""
        super().__init__(
            f"{len(self.failed)} message{'s' if len(self.failed) != 1 else ''} not delivered: {why}"
            f"{queued}; DeliveryError.failed holds each (event, destination, topic, key, value) to retry"
        )


class _Failures:
    """The failed messages of those sent without a caller callback, until a flush hands them over."""

    def __init__(self) -> None:
        self.failed: list[FailedMessage] = []
        self.count = 0
        # Messages whose delivery report was served, acknowledged or failed: `sent - settled` are queued.
        self.settled = 0

    def take(self) -> list[FailedMessage]:
        failed, self.failed = self.failed, []
        return failed


class _Report:
    """The delivery callback of one route (or of one send with caller headers): keeps what failed.

    One per route, made once: a send passes its route's report instead of
    building a callback, and a delivery report (which carries no headers)
    still knows the event, destination and headers of its message. It does
    not refer to the producer, so a forgotten producer can be collected and
    flushed.
    """

    __slots__ = ("destination", "event", "failures", "headers", "names")

    def __init__(self, event: str, destination: str, headers: Headers | None, failures: _Failures):
        self.event = event
        self.destination = destination
        self.headers = tuple(headers or ())
        self.names = frozenset(k for k, _ in self.headers)
        self.failures = failures

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        self.failures.settled += 1
        if err is not None:
            self.failures.failed.append(
                FailedMessage(
                    self.event, self.destination, msg.topic() or "", msg.key(), msg.value(), self.headers, err
                )
            )
            self.failures.count += 1


class _Settles:
    """A caller's delivery callback, counted as settled before it is called."""

    __slots__ = ("callback", "failures")

    def __init__(self, callback: DeliveryCallback, failures: _Failures):
        self.callback = callback
        self.failures = failures

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        self.failures.settled += 1
        self.callback(err, msg)


def _flush_abandoned(producer: Producer, failures: _Failures) -> None:
    """Delivers what a producer nobody closed still holds, and says what could not be."""
    left = producer.flush(ABANDONED_FLUSH_S)
    failed = failures.take()
    if failed or left:
        log.error(
            "a RoutingProducer was not closed: %s",
            DeliveryError(failed, left)
            if failed
            else f"{left} messages still queued after {ABANDONED_FLUSH_S} s are lost",
        )


class RoutingProducer:
    """Sends each event where the contract says, with the route's headers.

    Every message sent without an `on_delivery` of the caller's is tracked:
    `flush()`, `close()` and leaving a `with` block raise DeliveryError if any
    of them failed since the last `flush()`. Counters: `sent` (messages
    queued), `failed` (reported in a DeliveryError, or to be); `counters()`
    is a snapshot of them to export.
    """

    def __init__(
        self, contract: Mapping[str, Any] | str, bootstrap: Mapping[str, str], config: Mapping[str, Any] | None = None
    ):
        """`config` is added to (and may override) the librdkafka producer settings.

        By default the producer is idempotent with acks=all: no duplicates on
        retry, nothing acknowledged before every in-sync replica has it. A
        message not acknowledged within `message.timeout.ms` (librdkafka's
        default: 300 s) fails. Delivery callbacks are per message (`send`'s
        `on_delivery`), never producer-wide.
        """
        self.contract = Contract.from_dict(contract)
        own = [k for k in OWN_CALLBACKS if k in (config or {})]
        if own:
            raise RoutingError(
                f"config sets {', '.join(own)}: pass on_delivery to send() instead; "
                "the producer reports every other failure itself"
            )
        self._failures = _Failures()
        self._producer = Producer(
            {
                "bootstrap.servers": self.contract.bootstrap_of(self.contract.produce_cluster, bootstrap),
                "enable.idempotence": True,
                "acks": "all",
                **(config or {}),
            }
        )
        # Route -> what produce() takes, computed once (None: no headers to add), and its delivery report.
        self._routes: dict[str, dict[str, tuple[str, Headers | None, _Report]]] = {
            event: {
                dest: (
                    r.topic,
                    list(r.headers.items()) or None,
                    _Report(event, dest, list(r.headers.items()), self._failures),
                )
                for dest, r in dests.items()
            }
            for event, dests in self.contract.produce.items()
        }
        self._produce = self._producer.produce
        self._poll = self._producer.poll
        self.sent = 0
        self._closed = False
        self._finalizer = weakref.finalize(self, _flush_abandoned, self._producer, self._failures)

    @property
    def failed(self) -> int:
        return self._failures.count

    def counters(self) -> dict[str, int]:
        """The counters as one flat map for a metrics exporter: produced, errors, and queued (not yet acknowledged)."""
        return {"produced": self.sent, "errors": self.failed, "queued": len(self)}

    def send(
        self,
        event: str,
        destination: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        on_delivery: DeliveryCallback | None = None,
    ) -> None:
        """Queues one message for `destination` (a region key like 'aws/us-west-2').

        The route's headers win over caller headers of the same name, so a
        caller cannot misaddress a message by accident. With `on_delivery`,
        the caller is told of this message's outcome (served every
        SERVE_EVERY sends, and by `poll`, `flush` and `close`) and owns its failure;
        without, a failure is raised by the next `flush()` or `close()`.
        Waits (bounded) while the local queue is full; raises BufferError if
        it stays full.
        """
        if self._closed:
            raise RuntimeError("RoutingProducer is closed")
        try:
            topic, route_headers, report = self._routes[event][destination]
        except KeyError:
            self.contract.route(event, destination)
            raise
        if headers:
            route_headers = [(k, v) for k, v in headers.items() if k not in report.names] + (route_headers or [])
            if on_delivery is None:
                on_delivery = _Report(event, destination, route_headers, self._failures)
            else:
                on_delivery = _Settles(on_delivery, self._failures)
        elif on_delivery is None:
            on_delivery = report
        else:
            on_delivery = _Settles(on_delivery, self._failures)
        try:
            self._produce(topic, value, key, on_delivery=on_delivery, headers=route_headers)
        except BufferError:
            self._produce_when_room(topic, value, key, on_delivery, route_headers)
        self.sent += 1
        if not self.sent % SERVE_EVERY:
            self._poll(0)

    def _produce_when_room(
        self,
        topic: str,
        value: bytes | str,
        key: bytes | str | None,
        on_delivery: DeliveryCallback | None,
        headers: Headers | None,
    ) -> None:
        deadline = time.monotonic() + QUEUE_FULL_WAIT_S
        while True:
            self._poll(0.05)
            try:
                self._produce(topic, value, key, on_delivery=on_delivery, headers=headers)
                return
            except BufferError:
                if time.monotonic() > deadline:
                    raise

    def poll(self, timeout: float = 0) -> int:
        """Serves delivery callbacks; returns how many were served."""
        return self._producer.poll(timeout)

    def __len__(self) -> int:
        """Messages sent and not yet acknowledged or failed (delivery reports waiting are served first)."""
        # Counted from our own reports: librdkafka's length also counts its error events not yet served.
        self._poll(0)
        return self.sent - self._failures.settled

    def flush(self, timeout: float = 30) -> int:
        """Waits (up to `timeout`) for every queued message; returns how many are still queued.

        Raises DeliveryError if any message sent without the caller's
        `on_delivery` failed since the last flush; those are then handed over
        (the next flush does not report them again).
        """
        self._producer.flush(timeout)
        left = self.sent - self._failures.settled
        failed = self._failures.take()
        if failed:
            raise DeliveryError(failed, left)
        return left

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Flushes, then gives up on what is still queued after `timeout`: nothing is left behind silently.

        Messages still queued are purged and reported as failed (a message
        purged in flight may have been written nonetheless). Raises
        DeliveryError as `flush()` does. Closing again does nothing; the
        producer cannot send, poll or flush any more.
        """
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        if self._producer.flush(timeout):
            self._producer.purge()
            self._producer.flush(timeout)
        # Nothing is queued any more; without this, librdkafka's threads keep reconnecting until the object goes.
        release = getattr(self._producer, "close", None)
        if release is not None:
            release()
        failed = self._failures.take()
        if failed:
            raise DeliveryError(failed)

    def __enter__(self: _Producer) -> _Producer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Closes; a DeliveryError is raised even while another exception leaves the block (it is kept as context)."""
        self.close()
