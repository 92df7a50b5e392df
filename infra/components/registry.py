"""Which realization serves each cloud, link kind and mirror mechanism.

The walk in realize.py reads only these maps. A new cloud, link kind or
mirror mechanism is a new entry here (with the callable types of base.py);
nothing else changes. A plan item whose key is missing is refused before any
resource is registered.
"""

from __future__ import annotations

from infra import geo, vpn
from infra.components.aws import access as aws_access
from infra.components.aws import alarms, msk, msk_connect, peering, replicator, topics
from infra.components.aws import network as aws_network
from infra.components.aws import provider as aws_provider
from infra.components.base import Realizers
from infra.components.crosscloud import link as crosscloud_link
from infra.components.gcp import access as gcp_access
from infra.components.gcp import connect as gcp_connect
from infra.components.gcp import managed_kafka
from infra.components.gcp import monitoring as gcp_monitoring
from infra.components.gcp import network as gcp_network
from infra.components.gcp import provider as gcp_provider
from infra.components.gcp import topics as gcp_topics
from infra.components.kafka import selfmanaged
from infra.kinds import LinkKind, MirrorMechanism

REALIZERS = Realizers(
    # cloud -> (ctx, region) -> provider
    providers={
        geo.AWS: aws_provider.realize_provider,
        geo.GCP: gcp_provider.realize_provider,
        geo.SELF_MANAGED: selfmanaged.realize_provider,
    },
    # cloud -> (ctx, regions of that cloud) -> region key -> network
    networks={
        geo.AWS: aws_network.realize_networks,
        geo.GCP: gcp_network.realize_networks,
        geo.SELF_MANAGED: selfmanaged.realize_networks,
    },
    # cloud -> (ctx, planned cluster, network) -> KafkaCluster
    clusters={
        geo.AWS: msk.realize_cluster,
        geo.GCP: managed_kafka.realize_cluster,
        geo.SELF_MANAGED: selfmanaged.realize_cluster,
    },
    # cloud -> (ctx, planned cluster, KafkaCluster, topics) -> TopicSet
    topics={
        geo.AWS: topics.realize_topics,
        geo.GCP: gcp_topics.realize_topics,
        geo.SELF_MANAGED: selfmanaged.realize_topics,
    },
    # link kind -> (ctx, link, hub network, spoke network) -> resource
    links={
        LinkKind.VPC_PEERING: peering.realize_peering,
        LinkKind.SHARED_VPC: gcp_network.realize_shared_vpc,
        LinkKind.HA_VPN: crosscloud_link.realize_link,
    },
    # mechanism -> (ctx, flow, source Site, target Site) -> resource
    mirrors={
        MirrorMechanism.MSK_REPLICATOR: replicator.realize_replication,
        MirrorMechanism.MM2_GCP_CONNECT: gcp_connect.realize_mirror,
        MirrorMechanism.MM2_MSK_CONNECT: msk_connect.realize_mirror,
        MirrorMechanism.MM2_OPERATOR: selfmanaged.realize_mirror,
    },
    # cloud -> plan -> problems, checked before anything is registered
    checks={geo.AWS: msk.problems, geo.GCP: vpn.problems},
    # cloud -> (ctx, sites, realized flows) -> the alarms of plan.alarms there
    monitoring={geo.AWS: alarms.realize_alarms, geo.GCP: gcp_monitoring.realize_monitoring},
    # cloud -> (ctx, sites) -> what holds its principals to the plan's grants
    access={
        geo.AWS: aws_access.realize_access,
        geo.GCP: gcp_access.realize_access,
        geo.SELF_MANAGED: selfmanaged.realize_access,
    },
)
