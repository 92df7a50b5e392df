"""A region's routing contract, read from its exported (dict) form and checked whole."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# A destination is a region key: lower-case cloud, '/', lower-case region name.
DESTINATION = re.compile(r"[a-z][a-z0-9]*/[a-z][a-z0-9-]*")
KEYS = ("produceCluster", "consumeCluster", "produce", "consume", "headerFilter")
FAILOVER_KEYS = ("produceCluster", "consumeCluster", "afterSeconds")


class RoutingError(ValueError):
    """A contract that cannot be used, or a send the contract does not allow."""


@dataclass(frozen=True)
class Route:
    topic: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Failover:
    """The other hub: where to produce and consume once the active one is unreachable for `after_seconds`."""

    produce_cluster: str
    consume_cluster: str
    after_seconds: float


@dataclass(frozen=True)
class Contract:
    produce_cluster: str
    consume_cluster: str
    # event -> destination region -> route
    produce: Mapping[str, Mapping[str, Route]]
    # event -> topic
    consume: Mapping[str, str]
    header_filter: Mapping[str, str]
    # None: the stack has no standby hub.
    failover: Failover | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | str) -> Contract:
        """From the exported form: a dict, or its JSON text (as the stack outputs hold it).

        Anything malformed or inconsistent raises RoutingError naming the key,
        the value and what was expected.
        """
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError as e:
                raise RoutingError(f"routing contract is not valid JSON: {e}") from None
        if not isinstance(doc, Mapping):
            raise RoutingError(f"routing contract must be a map, not {type(doc).__name__}")
        missing = [k for k in KEYS if k not in doc]
        if missing:
            raise RoutingError(f"routing contract lacks {', '.join(missing)}; pass the region's contract as exported")
        produce = {
            event: {dest: _route(f"produce.{event}.{dest}", r) for dest, r in _map("produce." + event, dests).items()}
            for event, dests in _map("produce", doc["produce"]).items()
        }
        for event, dests in produce.items():
            if not dests:
                raise RoutingError(f"routing contract produce.{event} names no destination region")
            for dest in dests:
                if not DESTINATION.fullmatch(dest):
                    raise RoutingError(
                        f"routing contract produce.{event}: destination {dest!r} is not a region key "
                        "like 'aws/us-east-1' (lower-case cloud/region)"
                    )
        contract = cls(
            _text("produceCluster", doc["produceCluster"]),
            _text("consumeCluster", doc["consumeCluster"]),
            produce,
            _strings("consume", doc["consume"]),
            _strings("headerFilter", doc["headerFilter"]),
            None if doc.get("failover") is None else _failover(doc["failover"]),
        )
        contract._check_consume()
        return contract

    def _check_consume(self) -> None:
        """What this region consumes must be something the stack routes to it; else it would keep nothing."""
        for event, topic in self.consume.items():
            routes = self.produce.get(event)
            if routes is None:
                raise RoutingError(
                    f"routing contract consume.{event}: event {event!r} has no produce routes; "
                    f"known events: {', '.join(sorted(self.produce))}"
                )
            mine = [
                d
                for d, r in routes.items()
                if r.topic == topic and all(r.headers.get(k) == v for k, v in self.header_filter.items())
            ]
            if not mine:
                what = f"topic {topic!r}" + (f" with headers {dict(self.header_filter)}" if self.header_filter else "")
                raise RoutingError(
                    f"routing contract consume.{event}: no destination region of the stack is routed to {what}, so "
                    "this region would receive nothing; pass the contract exported for one of the stack's regions "
                    f"({', '.join(sorted(routes))})"
                )

    def destinations(self) -> set[str]:
        """Every region key the contract routes to: the stack's regions."""
        return {d for dests in self.produce.values() for d in dests}

    def route(self, event: str, destination: str) -> Route:
        if event not in self.produce:
            raise RoutingError(
                f"event '{event}' is not in the routing contract; known: {', '.join(sorted(self.produce))}"
            )
        dests = self.produce[event]
        if destination not in dests:
            hint = " (region keys are lower-case)" if destination.lower() in dests else ""
            raise RoutingError(
                f"destination '{destination}' is not a region of the routing contract{hint}; "
                f"known: {', '.join(sorted(dests))}"
            )
        return dests[destination]

    def bootstrap_of(self, cluster: str, bootstrap: Mapping[str, str]) -> str:
        if not isinstance(bootstrap, Mapping):
            raise RoutingError(f"bootstrap must map cluster keys to addresses, not {type(bootstrap).__name__}")
        if cluster not in bootstrap:
            raise RoutingError(
                f"no bootstrap address for cluster '{cluster}'; given: {', '.join(sorted(bootstrap)) or 'none'}"
            )
        address = bootstrap[cluster]
        if not isinstance(address, str) or not address:
            raise RoutingError(f"bootstrap address of cluster '{cluster}' is {address!r}; expected 'host:port'")
        return address


def _map(key: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RoutingError(f"routing contract {key} must be a map, not {type(value).__name__} {value!r:.60}")
    bad = [k for k in value if not isinstance(k, str) or not k]
    if bad:
        raise RoutingError(f"routing contract {key} has keys {bad!r:.60} that are not non-empty strings")
    return value


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise RoutingError(f"routing contract {key} must be a non-empty string, not {value!r:.60}")
    return value


def _strings(key: str, value: object) -> dict[str, str]:
    return {k: _text(f"{key}.{k}", v) for k, v in _map(key, value).items()}


def _failover(value: object) -> Failover:
    doc = _map("failover", value)
    missing = [k for k in FAILOVER_KEYS if k not in doc]
    if missing:
        raise RoutingError(
            f"routing contract failover lacks {', '.join(missing)}; pass the region's contract as exported"
        )
    after = doc["afterSeconds"]
    if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 < after < float("inf"):
        raise RoutingError(
            f"routing contract failover.afterSeconds must be a number of seconds above 0, not {after!r:.60}"
        )
    return Failover(
        _text("failover.produceCluster", doc["produceCluster"]),
        _text("failover.consumeCluster", doc["consumeCluster"]),
        float(after),
    )


def _route(key: str, value: object) -> Route:
    doc = _map(key, value)
    if "topic" not in doc:
        raise RoutingError(f"routing contract {key} lacks topic")
    headers = doc.get("headers")
    return Route(_text(f"{key}.topic", doc["topic"]), _strings(f"{key}.headers", {} if headers is None else headers))
