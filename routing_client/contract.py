"""A region's routing contract, read from its exported (dict) form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping


class RoutingError(ValueError):
    """A contract that cannot be used, or a send the contract does not allow."""


@dataclass(frozen=True)
class Route:
    topic: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Contract:
    produce_cluster: str
    consume_cluster: str
    # event -> destination region -> route
    produce: Mapping[str, Mapping[str, Route]]
    # event -> topic
    consume: Mapping[str, str]
    header_filter: Mapping[str, str]

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | str) -> "Contract":
        """From the exported form: a dict, or its JSON text (as the stack outputs hold it)."""
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError as e:
                raise RoutingError(f"routing contract is not valid JSON: {e}") from None
        if not isinstance(doc, Mapping):
            raise RoutingError(f"routing contract must be a map, not {type(doc).__name__}")
        missing = [k for k in ("produceCluster", "consumeCluster", "produce", "consume", "headerFilter") if k not in doc]
        if missing:
            raise RoutingError(f"routing contract lacks {', '.join(missing)}; pass the region's contract as exported")
        produce = {
            event: {dest: Route(r["topic"], dict(r.get("headers") or {})) for dest, r in dests.items()}
            for event, dests in doc["produce"].items()
        }
        return cls(doc["produceCluster"], doc["consumeCluster"], produce, dict(doc["consume"]), dict(doc["headerFilter"]))

    def route(self, event: str, destination: str) -> Route:
        if event not in self.produce:
            raise RoutingError(f"event '{event}' is not in the routing contract; known: {', '.join(sorted(self.produce))}")
        dests = self.produce[event]
        if destination not in dests:
            raise RoutingError(
                f"destination '{destination}' is not a region of the routing contract; known: {', '.join(sorted(dests))}"
            )
        return dests[destination]

    def bootstrap_of(self, cluster: str, bootstrap: Mapping[str, str]) -> str:
        if cluster not in bootstrap:
            raise RoutingError(f"no bootstrap address for cluster '{cluster}'; given: {', '.join(sorted(bootstrap)) or 'none'}")
        return bootstrap[cluster]
