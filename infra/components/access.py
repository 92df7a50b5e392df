"""Who connects to which cluster from another cloud: pure, no Pulumi.

In-cloud clients authenticate with the cloud's own identity (IAM on AWS).
A client in the other cloud has no such identity, so a cluster gets a
username/password (SASL/SCRAM) per foreign region that reaches it, either
because that region's services produce to or consume from it (its routing
contract says so) or because a mirror flow into that region reads from it.
"""

from __future__ import annotations

from infra import naming
from infra.plan import Plan


def foreign_clients(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Cluster key -> sorted keys of the other-cloud regions that connect to it."""
    clients: dict[str, set[str]] = {key: set() for key in plan.clusters}
    for region_key, contract in plan.routing.items():
        region = plan.config.regions[region_key]
        for cluster_key in {contract.produce_cluster, contract.consume_cluster}:
            if plan.clusters[cluster_key].region.cloud != region.cloud:
                clients[cluster_key].add(region_key)
    for flow in plan.mirrors.values():
        source, target = plan.clusters[flow.source], plan.clusters[flow.target]
        if source.region.cloud != target.region.cloud:
            clients[flow.source].add(target.region.key)
    return {key: tuple(sorted(regions)) for key, regions in clients.items()}


def scram_username(plan: Plan, region_key: str) -> str:
    """gcp-europe-west1: the SCRAM user of one foreign region's clients."""
    return naming.region_slug(plan.config.regions[region_key])
