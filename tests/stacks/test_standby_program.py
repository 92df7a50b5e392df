"""A stack with a standby hub through __main__.py under mocks: the standby cluster, its topics, the replication
between the hubs, the links to the standby, the contracts' failover, and what flipping activeHub changes."""

from __future__ import annotations

import json

import pytest

from infra.kinds import Architecture
from tests.support import mocks
from tests.support.program import of_type, plan_of, run_main
from tests.support.stacks import AWS_HUB, raw_config

STANDBY = "aws/us-west-2"
STANDBY_KEY = "aws/us-west-2/standby"
CLUSTER, TOPIC, REPLICATOR = "aws:msk/cluster:Cluster", "aws:msk/topic:Topic", "aws:msk/replicator:Replicator"


def config(architecture: str, active: str = "hub", standby: str = STANDBY) -> dict[str, str]:
    return raw_config(architecture, AWS_HUB, standbyHub=standby, activeHub=active)


@pytest.fixture(scope="module", params=[a.value for a in Architecture])
def flipped(request):
    """(plan, registrations, outputs) with the hub active, then with the standby active."""
    out = {}
    for active in ("hub", "standby"):
        raw = config(request.param, active)
        regs, outputs, refused = run_main(raw)
        assert refused is None
        out[active] = (plan_of(raw), regs, outputs)
    return out


def _topics(regs):
    # The mocks' cluster ARNs are arn:...:cluster/<cluster name>/<uuid>.
    return sorted((t.inputs["clusterArn"].split("/")[1], t.inputs["name"]) for t in of_type(regs, TOPIC))


def _replicators(regs):
    """Replicator name -> (source cluster name, target cluster name, topics, offsets synced)."""
    out = {}
    for r in of_type(regs, REPLICATOR):
        info = r.inputs["replicationInfoList"]
        (groups,) = info["consumerGroupReplications"]
        out[r.inputs["replicatorName"]] = (
            info["sourceKafkaClusterArn"].split("/")[1],
            info["targetKafkaClusterArn"].split("/")[1],
            tuple(info["topicReplications"][0]["topicsToReplicates"]),
            groups["synchroniseConsumerGroupOffsets"],
        )
    return out


def test_the_standby_cluster_holds_every_hub_topic_protected(flipped):
    plan, regs, _ = flipped["hub"]
    clusters = {c.inputs["clusterName"]: c for c in of_type(regs, CLUSTER)}
    standby = clusters["mck-test-aws-us-west-2-standby"]
    assert standby.protect
    topics = _topics(regs)
    hub_topics = [name for cluster, name in topics if cluster == plan.hub.name]
    assert [name for cluster, name in topics if cluster == standby.inputs["clusterName"]] == hub_topics
    assert all(t.protect and t.retain_on_delete for t in of_type(regs, TOPIC))


def test_msk_replicator_copies_every_hub_topic_with_identical_names_and_group_offsets(flipped):
    plan, regs, _ = flipped["hub"]
    reps = _replicators(regs)
    name = "mck-test-aws-us-east-1-to-aws-us-west-2-standby"
    source, target, topics, synced = reps[name]
    assert (source, target) == (plan.hub.name, "mck-test-aws-us-west-2-standby")
    assert topics == tuple(sorted(plan.topics["aws/us-east-1"])) and synced is True
    (rep,) = [r for r in of_type(regs, REPLICATOR) if r.inputs["replicatorName"] == name]
    naming = rep.inputs["replicationInfoList"]["topicReplications"][0]["topicNameConfiguration"]
    assert naming == {"type": "IDENTICAL"}


def test_flipping_active_hub_keeps_every_cluster_and_topic_and_reverses_the_replication(flipped):
    (before_plan, before, _), (after_plan, after, _) = flipped["hub"], flipped["standby"]
    # Same clusters (names, inputs) and topics: nothing holding data is replaced or deleted.
    assert {c.urn for c in of_type(before, CLUSTER)} == {c.urn for c in of_type(after, CLUSTER)}
    assert _topics(before) == _topics(after)
    assert {t.urn for t in of_type(before, TOPIC)} == {t.urn for t in of_type(after, TOPIC)}
    reps = _replicators(after)
    assert reps["mck-test-aws-us-west-2-standby-to-aws-us-east-1"][:2] == (
        "mck-test-aws-us-west-2-standby",
        "mck-test-aws-us-east-1",
    )
    assert "mck-test-aws-us-east-1-to-aws-us-west-2-standby" not in reps
    # Both hub clusters are cross-region replicator sources either way: a flip does not touch their connectivity.
    for regs in (before, after):
        for c in of_type(regs, CLUSTER):
            if c.inputs["clusterName"] in ("mck-test-aws-us-east-1", "mck-test-aws-us-west-2-standby"):
                assert c.inputs["brokerNodeGroupInfo"]["connectivityInfo"]["vpcConnectivity"], c.inputs["clusterName"]
    assert {c.inputs["clusterName"]: c.inputs["brokerNodeGroupInfo"] for c in of_type(before, CLUSTER)} == {
        c.inputs["clusterName"]: c.inputs["brokerNodeGroupInfo"] for c in of_type(after, CLUSTER)
    }
    assert after_plan.active.key == STANDBY_KEY and before_plan.active.key == "aws/us-east-1"


def test_every_region_gets_the_failover_clusters_bootstrap_and_the_contract_names_them(flipped):
    for active, (plan, _, outputs) in flipped.items():
        for key, contract in plan.routing.items():
            region = outputs["regions"][key]
            routing = json.loads(region["routing"])
            assert contract.failover is not None
            assert routing["failover"] == contract.failover.to_dict()
            assert {contract.failover.produce_cluster, contract.failover.consume_cluster} <= set(region["bootstrap"])
            assert routing["produceCluster"] == (STANDBY_KEY if active == "standby" else "aws/us-east-1")


def test_every_region_has_a_link_to_the_standby(flipped):
    _, regs, _ = flipped["hub"]
    links = {r.name for r in of_type(regs, "multicloud-kafka:crosscloud:HaVpnLink")}
    assert {"mck-test-aws-us-west-2-to-gcp-europe-west1", "mck-test-aws-us-west-2-to-gcp-asia-southeast1"} <= links
    # The standby's VPC terminates its own links on its own VPN gateway.
    gateways = {g.name for g in of_type(regs, "aws:ec2/vpnGateway:VpnGateway")}
    assert gateways == {"mck-test-aws-us-east-1-vpn", "mck-test-aws-us-west-2-vpn"}


def test_a_gcp_standby_is_fed_by_mirrormaker_2_with_checkpoints_syncing_group_offsets():
    raw = config("topic-per-region", standby="gcp/europe-west1")
    regs, _, refused = run_main(raw)
    assert refused is None
    connectors = {
        c.inputs["connectorId"]: mocks.unsecret(c.inputs["configs"])[0]
        for c in of_type(regs, "gcp:managedkafka/connector:Connector")
    }
    base = "mm2-aws-us-east-1-to-gcp-europe-west1-standby"
    assert set(connectors) == {f"{base}-source", f"{base}-checkpoint"}
    checkpoint = connectors[f"{base}-checkpoint"]
    assert checkpoint["sync.group.offsets.enabled"] == "true"
    assert checkpoint["emit.checkpoints.enabled"] == "true"
    assert checkpoint["replication.policy.class"].endswith("IdentityReplicationPolicy")
    plan = plan_of(raw)
    assert connectors[f"{base}-source"]["topics"] == ",".join(sorted(plan.topics["aws/us-east-1"]))
    (connect,) = of_type(regs, "gcp:managedkafka/connectCluster:ConnectCluster")
    assert connect.inputs["kafkaCluster"].endswith("/clusters/mck-test-gcp-europe-west1-standby")
