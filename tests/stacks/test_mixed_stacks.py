"""dev, staging and prod (each spans AWS and GCP) through __main__.py under mocks.

The resource set must match the plan: clusters in the right cloud and region,
topics on the right cluster, the right mirroring per flow, one cross-cloud
link per planned ha-vpn link.
"""

import runpy
from collections import Counter

import pytest

from infra import geo, mirrormaker, stackfile
from infra.architectures import build_plan
from infra.components.architecture import component_for
from infra.config import validate
from infra.kinds import LinkKind, MirrorMechanism
from tests.support import mocks
from tests.support.stacks import AWS_HUB, GCP_HUB, MAIN, make_plan, stack_file_config

STACKS = ("dev", "staging", "prod")


@pytest.fixture(scope="module", params=STACKS)
def realized(request):
    stack = request.param
    config = stack_file_config(stack)
    plan = build_plan(validate(stackfile.decode(config), stack))

    def program():
        a = runpy.run_path(str(MAIN))["architecture"]
        return {"hubBootstrap": a.hub_bootstrap, "regions": a.regions}

    monitor, _, outputs = mocks.run(program, config, stack)
    return plan, monitor.registrations, outputs


def of_type(regs, type_):
    return [r for r in regs if r.type == type_]


def lineage(regs, r):
    """The registration and its ancestors, nearest first."""
    by_urn = {x.urn: x for x in regs}
    out = [r]
    while out[-1].parent in by_urn:
        out.append(by_urn[out[-1].parent])
    return out


def top(regs, r):
    return lineage(regs, r)[-1]


def realization(regs):
    """What realizes the plan's Kafka side: not the regional API's resources."""
    return [r for r in regs if not any(a.type.startswith("multicloud-kafka:api:") for a in lineage(regs, r))]


def regions_of_providers(regs):
    return {r.urn: r.inputs.get("region") for r in regs if r.type.startswith("pulumi:providers:")}


def test_every_stack_spans_both_clouds(realized):
    plan, _, _ = realized
    assert {r.cloud for r in plan.config.regions.values()} == {geo.AWS, geo.GCP}


def test_clusters_in_the_right_cloud_and_region(realized):
    plan, regs, _ = realized
    regions = regions_of_providers(regs)
    msk = {c.inputs["clusterName"]: regions[c.provider] for c in of_type(regs, "aws:msk/cluster:Cluster")}
    gmk = {c.inputs["clusterId"]: c.inputs["location"] for c in of_type(regs, "gcp:managedkafka/cluster:Cluster")}
    assert {
        c.inputs["clusterId"]: regions[c.provider] for c in of_type(regs, "gcp:managedkafka/cluster:Cluster")
    } == gmk
    planned = {
        cloud: {c.name: c.region.name for c in plan.clusters.values() if c.region.cloud == cloud}
        for cloud in geo.CLOUDS
    }
    assert msk == planned[geo.AWS] and gmk == planned[geo.GCP]


def test_topics_on_the_right_cluster(realized):
    plan, regs, _ = realized
    got = [(t.inputs["clusterArn"].split("/")[1], t.inputs["name"]) for t in of_type(regs, "aws:msk/topic:Topic")]
    got += [(t.inputs["cluster"], t.inputs["topicId"]) for t in of_type(regs, "gcp:managedkafka/topic:Topic")]
    planned = [(plan.clusters[key].name, name) for key, topics in plan.topics.items() for name in topics]
    assert sorted(got) == sorted(planned)


def test_each_flow_is_mirrored_by_its_mechanism_with_exactly_its_topics(realized):
    plan, regs, _ = realized
    by_mechanism = Counter(f.mechanism for f in plan.mirrors.values())
    assert len(of_type(regs, "aws:msk/replicator:Replicator")) == by_mechanism[MirrorMechanism.MSK_REPLICATOR]
    assert (
        len(of_type(regs, "gcp:managedkafka/connectCluster:ConnectCluster"))
        == by_mechanism[MirrorMechanism.MM2_GCP_CONNECT]
    )
    assert len(of_type(regs, "multicloud-kafka:aws:MskConnectMirror")) == by_mechanism[MirrorMechanism.MM2_MSK_CONNECT]
    connectors = {
        c.inputs["connectorId"]: mocks.unsecret(c.inputs["configs"])[0]
        for c in of_type(regs, "gcp:managedkafka/connector:Connector")
    }
    for flow in plan.mirrors.values():
        if flow.mechanism != MirrorMechanism.MM2_GCP_CONNECT:
            continue
        target = plan.clusters[flow.target]
        (connect,) = [
            c
            for c in of_type(regs, "gcp:managedkafka/connectCluster:ConnectCluster")
            if c.inputs["kafkaCluster"].endswith(f"/clusters/{target.name}")
        ]
        assert connect.inputs["location"] == target.region.name
        for name in mirrormaker.connector_names(flow).values():
            assert connectors[name]["topics"] == ",".join(flow.topics)
    assert len(connectors) == 2 * by_mechanism[MirrorMechanism.MM2_GCP_CONNECT]


def test_one_cross_cloud_link_per_planned_ha_vpn_link_four_tunnels_each(realized):
    plan, regs, _ = realized
    kinds = Counter(link.kind for link in plan.links.values())
    assert len(of_type(regs, "multicloud-kafka:crosscloud:HaVpnLink")) == kinds[LinkKind.HA_VPN]
    assert len(of_type(regs, "gcp:compute/vPNTunnel:VPNTunnel")) == 4 * kinds[LinkKind.HA_VPN]
    assert len(of_type(regs, "aws:ec2/vpnConnection:VpnConnection")) == 2 * kinds[LinkKind.HA_VPN]
    assert len(of_type(regs, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection")) == kinds[LinkKind.VPC_PEERING]
    # One VPN gateway per AWS VPC that has a cross-cloud link, shared by its links.
    aws_ends = {
        plan.config.regions[k].key
        for link in plan.links.values()
        if link.kind == LinkKind.HA_VPN
        for k in (link.hub, link.spoke)
        if plan.config.regions[k].cloud == geo.AWS
    }
    gateways = of_type(regs, "aws:ec2/vpnGateway:VpnGateway")
    assert len(gateways) == len(aws_ends)
    assert {c.inputs["vpnGatewayId"] for c in of_type(regs, "aws:ec2/vpnConnection:VpnConnection")} == {
        f"{g.name}-id" for g in gateways
    }


def test_one_gcp_vpc_with_a_subnet_per_gcp_region(realized):
    plan, regs, _ = realized
    regs = realization(regs)
    assert len(of_type(regs, "gcp:compute/network:Network")) == 1
    subnets = {
        (s.inputs["region"], s.inputs["ipCidrRange"]) for s in of_type(regs, "gcp:compute/subnetwork:Subnetwork")
    }
    assert subnets == {(r.name, str(r.cidr)) for r in plan.config.regions.values() if r.cloud == geo.GCP}
    (rule,) = of_type(regs, "gcp:compute/firewall:Firewall")
    assert rule.inputs["sourceRanges"] == sorted(str(r.cidr) for r in plan.config.regions.values())


def test_every_gcp_resource_uses_an_explicit_provider(realized):
    _, regs, _ = realized
    providers = {r.urn for r in regs if r.type == "pulumi:providers:gcp"}
    for r in regs:
        if r.custom and r.type.startswith("gcp:"):
            assert r.provider in providers, f"{r.type} {r.name} would use the default provider"


def test_gcp_and_cross_cloud_components_descend_from_the_architecture(realized):
    _, regs, _ = realized
    mine = [r for r in regs if r.type.startswith(("multicloud-kafka:gcp:", "multicloud-kafka:crosscloud:"))]
    assert mine
    for r in mine:
        assert top(regs, r).type.startswith("multicloud-kafka:architecture:"), f"{r.type} {r.name}"


def test_every_region_gets_its_bootstrap_addresses(realized):
    plan, _, outputs = realized
    assert set(outputs["regions"]) == set(plan.config.regions)
    for key, contract in plan.routing.items():
        assert set(outputs["regions"][key]["bootstrap"]) == contract.clusters()
        for cluster_key, address in outputs["regions"][key]["bootstrap"].items():
            client, server = plan.config.regions[key].cloud, plan.clusters[cluster_key].region.cloud
            if server == geo.AWS:
                # GCP clients use the SASL/SCRAM listener, AWS clients IAM.
                assert address.endswith(":9098" if client == geo.AWS else ":9096")
            else:
                assert address.endswith(".cloud.goog:9092")


def test_cross_cloud_mirror_connectors_wait_for_their_link():
    """A MirrorMaker 2 connector whose source is in the other cloud reaches the source's brokers only
    through the HA VPN of its link (the brokers have private addresses only: MSK's with public access
    off, Managed Kafka's on its subnet), and, for a Managed Kafka source seen from AWS, only once DNS
    forwarding resolves its names. A connector created first starts tasks that fail to connect.
    Nothing but the dependency orders them; this test holds it for every cross-cloud flow, under an
    AWS hub and a GCP hub (issue 12, finding 6).
    """
    for plan in (
        make_plan("regional-clusters", AWS_HUB),
        make_plan("regional-clusters", GCP_HUB, hub="gcp/europe-west1"),
    ):
        monitor, _, _ = mocks.run(lambda plan=plan: component_for(plan)(plan.config.name_prefix, plan).hub_bootstrap)
        regs = monitor.registrations
        by_urn = {r.urn: r for r in regs}
        kinds = ("gcp:managedkafka/connector:Connector", "aws:mskconnect/connector:Connector")
        crossing = [
            f"{plan.config.name_prefix}-{f.source.replace('/', '-')}-to-{f.target.replace('/', '-')}"
            for f in plan.mirrors.values()
            if plan.clusters[f.source].region.cloud != plan.clusters[f.target].region.cloud
        ]
        connectors = [r for r in regs if r.type in kinds and any(r.name.startswith(c) for c in crossing)]
        assert crossing and len(connectors) >= len(crossing)
        for connector in connectors:
            deps = [by_urn[d] for d in connector.dependencies if d in by_urn]
            assert any(d.type == "gcp:compute/routerPeer:RouterPeer" for d in deps), connector.name
            assert any(d.type == "aws:ec2/vpnConnection:VpnConnection" for d in deps), connector.name
            assert any(d.type == "gcp:compute/vPNTunnel:VPNTunnel" for d in deps), connector.name


def test_dns_forwarding_fails_clearly_while_cloud_dns_has_no_forwarder_address(monkeypatch):
    """Google Cloud, "Configure DNS server policies" (cloud.google.com/dns/docs/policies), Create an
    inbound server policy: "Cloud DNS creates a set of inbound forwarder IP addresses from the primary
    IPv4 address ranges of subnets in each VPC network to which the policy applies. After you create
    the policy, you can list the entry points that Cloud DNS creates." The addresses are listed after
    the policy exists, so the look-up right after its creation may find none; a forwarding rule
    without targets forwards nowhere. A deployment stops with a message saying what to do, and a
    preview (which knows no addresses yet) passes (issue 12, finding 7).
    """
    import pulumi

    from infra.components.crosscloud import dns
    from infra.geo import Region

    region = Region("gcp", "europe-west1", __import__("ipaddress").ip_network("10.30.0.0/16"))
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)
    with pytest.raises(dns.ForwardersNotReady, match="run `pulumi up` again"):
        dns.forwarder_targets(region, [])
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    assert dns.forwarder_targets(region, []) == []
