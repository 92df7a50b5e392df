"""Producing an event addressed to a destination region."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from confluent_kafka import Producer

from routing_client.contract import Contract

QUEUE_FULL_WAIT_S = 30


class RoutingProducer:
    """Sends each event where the contract says, with the route's headers."""

    def __init__(self, contract: Mapping[str, Any] | str, bootstrap: Mapping[str, str], config: Mapping[str, Any] | None = None):
        """`config` is added to (and may override) the librdkafka producer settings.

        By default the producer is idempotent with acks=all: no duplicates on
        retry, nothing acknowledged before every in-sync replica has it.
        """
        self.contract = Contract.from_dict(contract)
        self._producer = Producer({
            "bootstrap.servers": self.contract.bootstrap_of(self.contract.produce_cluster, bootstrap),
            "enable.idempotence": True,
            "acks": "all",
            **(config or {}),
        })

    def send(
        self,
        event: str,
        destination: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Mapping[str, str | bytes] | None = None,
        on_delivery: Callable[[Any, Any], None] | None = None,
    ) -> None:
        """Queues one message for `destination` (a region key like 'aws/us-west-2').

        The route's headers win over caller headers of the same name, so a
        caller cannot misaddress a message by accident. Waits (bounded) while
        the local queue is full; raises BufferError if it stays full.
        """
        route = self.contract.route(event, destination)
        hdrs = [(k, v) for k, v in (headers or {}).items() if k not in route.headers]
        hdrs += list(route.headers.items())
        kwargs = {"key": key, "headers": hdrs}
        if on_delivery is not None:
            kwargs["on_delivery"] = on_delivery
        deadline = time.monotonic() + QUEUE_FULL_WAIT_S
        while True:
            try:
                self._producer.produce(route.topic, value, **kwargs)
                break
            except BufferError:
                if time.monotonic() > deadline:
                    raise
                self._producer.poll(0.05)
        self._producer.poll(0)

    def poll(self, timeout: float = 0) -> int:
        """Serves delivery callbacks; returns how many were served."""
        return self._producer.poll(timeout)

    def flush(self, timeout: float = 30) -> int:
        """Waits for every queued message; returns how many are still undelivered."""
        return self._producer.flush(timeout)
