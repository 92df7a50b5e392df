"""Consuming exactly the messages addressed to this region."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from confluent_kafka import Consumer, KafkaError, KafkaException, Message

from routing_client.contract import Contract, RoutingError

STATS_INTERVAL_MS = 1000


@dataclass(frozen=True)
class Received:
    event: str
    message: Message

    def value(self) -> bytes | None:
        return self.message.value()

    def headers(self) -> dict[str, bytes | None]:
        return dict(self.message.headers() or [])


class RoutingConsumer:
    """Reads the contract's topics and keeps the messages its header filter accepts.

    Counters: `received` (kept), `ignored` (fetched but addressed elsewhere:
    header routing makes every region pull every message), and
    `fetched_bytes`, the key and value bytes of the messages librdkafka
    fetched, kept or not, and `wire_bytes`, every byte the brokers sent this
    consumer on its fetch connections (Kafka protocol: record batches with
    their headers and framing, fetch responses, metadata), both as of the
    last statistics report.
    """

    def __init__(
        self,
        contract: Mapping[str, Any] | str,
        bootstrap: Mapping[str, str],
        group_id: str,
        events: Iterable[str] | None = None,
        config: Mapping[str, Any] | None = None,
    ):
        """`events` limits the subscription (default: every event of the contract).

        `config` is added to (and may override) the librdkafka consumer
        settings; statistics are reported every second unless
        `statistics.interval.ms` says otherwise.
        """
        self.contract = Contract.from_dict(contract)
        events = list(self.contract.consume) if events is None else list(events)
        unknown = [e for e in events if e not in self.contract.consume]
        if unknown:
            raise RoutingError(f"events {', '.join(unknown)} are not consumed per the contract; known: {', '.join(self.contract.consume)}")
        self._topic_event = {self.contract.consume[e]: e for e in events}
        self._filter = [(k, v.encode()) for k, v in self.contract.header_filter.items()]
        self.received = 0
        self.ignored = 0
        self.fetched_bytes = 0
        self.wire_bytes = 0
        self._fetching = False
        self._assigned = threading.Event()
        self._consumer = Consumer({
            "bootstrap.servers": self.contract.bootstrap_of(self.contract.consume_cluster, bootstrap),
            "group.id": group_id,
            "auto.offset.reset": "earliest",
            "statistics.interval.ms": STATS_INTERVAL_MS,
            "stats_cb": self._on_stats,
            **(config or {}),
        })
        self._consumer.subscribe(list(self._topic_event), on_assign=self._on_assign)

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

    def _on_assign(self, consumer: Consumer, partitions: list) -> None:
        self._assigned.set()

    def _on_stats(self, text: str) -> None:
        stats = json.loads(text)
        partitions = [
            p for t in stats.get("topics", {}).values() for pid, p in t.get("partitions", {}).items() if int(pid) >= 0
        ]
        self.fetched_bytes = sum(p.get("rxbytes", 0) for p in partitions)
        # Connections to the brokers themselves; the bootstrap and group
        # coordinator entries carry no fetches.
        self.wire_bytes = sum(b.get("rxbytes", 0) for b in stats.get("brokers", {}).values()
                              if b.get("source") == "learned")
        assigned = [p for p in partitions if p.get("desired")]
        self._fetching = self.assigned and bool(assigned) and all(p.get("fetch_state") == "active" for p in assigned)

    def _wanted(self, msg: Message) -> bool:
        if not self._filter:
            return True
        headers = dict(msg.headers() or [])
        return all(headers.get(k) == v for k, v in self._filter)

    def poll(self, timeout: float) -> Received | None:
        """The next message for this region, or None if none came within `timeout`.

        Messages addressed elsewhere are counted in `ignored` and skipped; a
        Kafka error on a message is raised as KafkaException.
        """
        deadline = time.monotonic() + timeout
        while True:
            msg = self._consumer.poll(max(0.0, deadline - time.monotonic()))
            if msg is None:
                return None
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(err)
            if self._wanted(msg):
                self.received += 1
                return Received(self._topic_event[msg.topic()], msg)
            self.ignored += 1

    def close(self) -> None:
        self._consumer.close()
