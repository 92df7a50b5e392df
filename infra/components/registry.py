"""Which realization serves each cloud, link kind and mirror mechanism.

The walk in realize.py reads only these maps. A new cloud, link kind or
mirror mechanism is a new entry here (with the callable types of base.py);
nothing else changes. A plan item whose key is missing is refused before any
resource is registered.
"""

from __future__ import annotations

from infra import geo, network, plan
from infra.components.aws import msk, peering, replicator, topics
from infra.components.aws import network as aws_network
from infra.components.aws import provider as aws_provider
from infra.components.base import Realizers

REALIZERS = Realizers(
    # cloud -> (ctx, region) -> provider
    providers={geo.AWS: aws_provider.realize_provider},
    # cloud -> (ctx, regions of that cloud) -> region key -> network
    networks={geo.AWS: aws_network.realize_networks},
    # cloud -> (ctx, planned cluster, network) -> KafkaCluster
    clusters={geo.AWS: msk.realize_cluster},
    # cloud -> (ctx, planned cluster, KafkaCluster, topics) -> TopicSet
    topics={geo.AWS: topics.realize_topics},
    # link kind -> (ctx, link, hub network, spoke network) -> resource
    links={network.VPC_PEERING: peering.realize_peering},
    # mechanism -> (ctx, flow, source Site, target Site) -> resource
    mirrors={plan.MSK_REPLICATOR: replicator.realize_replication},
    # cloud -> plan -> problems, checked before anything is registered
    checks={geo.AWS: msk.problems},
)
