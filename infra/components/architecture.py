"""The three architectures as Pulumi components over one realization path.

`COMPONENTS` maps the stack's `architecture` to its component. The
components differ in their type token only: each realizes the plan it is
given through `realize.realize`, so what gets built is what the plan says.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from infra.architectures import PLANNERS
from infra.components import realize
from infra.components.api.component import RegionalApi
from infra.components.base import Realizers
from infra.components.kafka.selfmanaged import OperatorMirror
from infra.components.registry import REALIZERS
from infra.kinds import Architecture
from infra.plan import Plan, RoutingContract

TYPE_PREFIX = "multicloud-kafka:architecture"


class ArchitectureComponent(pulumi.ComponentResource):
    """Realizes a Plan; its outputs are the stack's outputs.

    Each architecture aliases the other two types, so switching the stack's
    architecture keeps the URNs of everything both plans share (networks,
    the hub cluster, shared topics): Pulumi updates them in place instead of
    replacing them.
    """

    KIND: Architecture

    def __init__(
        self,
        name: str,
        plan: Plan,
        opts: pulumi.ResourceOptions | None = None,
        realizers: Realizers = REALIZERS,
    ):
        realize.check(plan, realizers)
        others = [pulumi.Alias(type_=c.type_token()) for c in COMPONENTS.values() if c is not type(self)]
        super().__init__(
            self.type_token(), name, None, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=others))
        )
        self.plan = plan
        self.realization = realize.realize(plan, self, realizers)
        sites = self.realization.sites
        self.hub_bootstrap: pulumi.Output[str] = sites[plan.hub.key].cluster.bootstrap(plan.hub.region.cloud)
        regions: pulumi.Output[dict[str, Any]] = pulumi.Output.all(
            **{key: self._region(key, contract) for key, contract in plan.routing.items()}
        )
        # The API reads the regional networks, and nothing of it depends on how
        # Kafka is laid out, so its URNs survive an architecture switch too.
        self.api: RegionalApi | None = None
        if plan.api is not None:
            self.api = RegionalApi(
                plan.config.name_prefix, plan.api, self.realization.networks, pulumi.ResourceOptions(parent=self)
            )
            regions = regions.apply(plan.api.with_endpoints)
        self.regions = regions
        # `protect` is for the program's switch guard (infra/switchguard.py), which reads it back from the state.
        outputs: dict[str, Any] = {
            "architecture": plan.architecture,
            "protect": plan.config.protect,
            "hubBootstrap": self.hub_bootstrap,
            "regions": self.regions,
        }
        if plan.config.standby is not None:
            # Also for the switch guard: moving or removing the standby drops its cluster and topics.
            outputs["standbyHub"] = plan.config.standby.key
            outputs["activeHub"] = plan.config.active_hub.value
        if self.api is not None:
            outputs["api"] = self.api.outputs
        # cloud -> {dashboard: {name, region}, notifications: {target key: SNS topic ARN}}
        self.monitoring: dict[str, Any] = {cloud: dict(m.outputs) for cloud, m in self.realization.monitoring.items()}
        outputs["monitoring"] = self.monitoring
        # region key -> what its services use to reach Kafka: an IAM policy ARN
        # (AWS) or a service account (GCP), holding them to their grants.
        self.access: dict[str, Any] = {}
        for made in self.realization.access.values():
            for region, values in made.outputs.items():
                self.access.setdefault(region, {}).update(values)
        outputs["access"] = self.access
        # flow key -> the MirrorMaker 2 worker and connectors the operator runs into a self-managed cluster.
        self.operator_mirrors: dict[str, Any] = {
            key: m.handover for key, m in self.realization.mirrors.items() if isinstance(m, OperatorMirror)
        }
        if self.operator_mirrors:
            outputs["operatorMirrors"] = self.operator_mirrors
        self.register_outputs(outputs)

    def _region(self, key: str, contract: RoutingContract) -> pulumi.Output[dict[str, Any]]:
        """{bootstrap: {cluster key: address for this region's clients}, routing: contract as JSON}.

        The bootstrap map names every cluster the contract does, its failover
        section's included, so clients can fail over with what they were given.

        The contract goes out as JSON text: it grows with events x regions, and
        Pulumi lifts every nested map of an output into Outputs of its own,
        which for a large stack costs more than registering all its resources.
        """
        sites, cloud = self.realization.sites, self.plan.config.regions[key].cloud
        used = sorted(contract.clusters())
        routing = json.dumps(contract.to_dict(), sort_keys=True)
        return pulumi.Output.all(*(sites[c].cluster.bootstrap(cloud) for c in used)).apply(
            lambda addresses: {"bootstrap": dict(zip(used, addresses, strict=True)), "routing": routing}
        )

    @classmethod
    def type_token(cls) -> str:
        return f"{TYPE_PREFIX}:{cls.__name__}"


def _class_name(kind: Architecture) -> str:
    """header-routing -> HeaderRouting: the class name, and so the type token."""
    return "".join(word.capitalize() for word in kind.value.split("-"))


# One component class per member of `Architecture`, derived from the enum so
# that the config, the planners and the components cannot disagree. The class
# names are part of every URN: they must stay HeaderRouting, TopicPerRegion and
# RegionalClusters.
COMPONENTS: dict[Architecture, type[ArchitectureComponent]] = {
    kind: type(_class_name(kind), (ArchitectureComponent,), {"KIND": kind, "__doc__": PLANNERS[kind].__doc__})
    for kind in Architecture
}


def component_for(plan: Plan) -> type[ArchitectureComponent]:
    """The component class of the plan's architecture."""
    return COMPONENTS[plan.architecture]
