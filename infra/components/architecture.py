"""The three architectures as Pulumi components over one realization path.

`ARCHITECTURES` maps the stack's `architecture` key to its component. The
components differ in their type token only: each realizes the plan it is
given through `realize.realize`, so what gets built is what the plan says.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from infra.components import realize
from infra.components.base import Realizers
from infra.components.registry import REALIZERS
from infra.plan import Plan

TYPE_PREFIX = "multicloud-kafka:architecture"


class Architecture(pulumi.ComponentResource):
    """Realizes a Plan; its outputs are the stack's outputs.

    Each architecture aliases the other two types, so switching the stack's
    architecture keeps the URNs of everything both plans share (networks,
    the hub cluster, shared topics): Pulumi updates them in place instead of
    replacing them.
    """

    KIND = ""

    def __init__(
        self,
        name: str,
        plan: Plan,
        opts: pulumi.ResourceOptions | None = None,
        realizers: Realizers = REALIZERS,
    ):
        realize.check(plan, realizers)
        others = [pulumi.Alias(type_=c.type_token()) for c in ARCHITECTURES.values() if c is not type(self)]
        super().__init__(
            self.type_token(), name, None, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=others))
        )
        self.plan = plan
        self.realization = realize.realize(plan, self, realizers)
        sites = self.realization.sites
        self.hub_bootstrap: pulumi.Output[str] = sites[plan.hub.key].cluster.bootstrap(plan.hub.region.cloud)
        self.regions: pulumi.Output[dict[str, Any]] = pulumi.Output.all(
            **{key: self._region(key, contract) for key, contract in plan.routing.items()}
        )
        # `protect` is for the program's switch guard (infra/switchguard.py), which reads it back from the state.
        self.register_outputs(
            {
                "architecture": plan.architecture,
                "protect": plan.config.protect,
                "hubBootstrap": self.hub_bootstrap,
                "regions": self.regions,
            }
        )

    def _region(self, key: str, contract) -> pulumi.Output[dict[str, Any]]:
        """{bootstrap: {cluster key: address for this region's clients}, routing: contract as JSON}.

        The contract goes out as JSON text: it grows with events x regions, and
        Pulumi lifts every nested map of an output into Outputs of its own,
        which for a large stack costs more than registering all its resources.
        """
        sites, cloud = self.realization.sites, self.plan.config.regions[key].cloud
        used = sorted({contract.produce_cluster, contract.consume_cluster})
        routing = json.dumps(contract.to_dict(), sort_keys=True)
        return pulumi.Output.all(*(sites[c].cluster.bootstrap(cloud) for c in used)).apply(
            lambda addresses: {"bootstrap": dict(zip(used, addresses)), "routing": routing}
        )

    @classmethod
    def type_token(cls) -> str:
        return f"{TYPE_PREFIX}:{cls.__name__}"


class HeaderRouting(Architecture):
    """One hub cluster, one topic per event; consumers filter on headers."""

    KIND = "header-routing"


class TopicPerRegion(Architecture):
    """One hub cluster, one topic per event and destination region."""

    KIND = "topic-per-region"


class RegionalClusters(Architecture):
    """The hub plus a cluster per region, fed by one mirror flow each."""

    KIND = "regional-clusters"


ARCHITECTURES: dict[str, type[Architecture]] = {
    c.KIND: c for c in (HeaderRouting, TopicPerRegion, RegionalClusters)
}


def component_for(plan: Plan) -> type[Architecture]:
    """The component class of the plan's architecture."""
    return ARCHITECTURES[plan.architecture]
