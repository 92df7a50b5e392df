"""The stand-in providers' judgement, without the engine (docs/engine.md "What runs, and what stands in")."""

from __future__ import annotations

import pytest

from tests.support.engine import forcenew, inputs
from tests.support.engine.standin import PropertyDiff, changes

pytestmark = pytest.mark.engine

MSK = "aws:msk/cluster:Cluster"
GOOD_MSK = {
    "clusterName": "c",
    "kafkaVersion": "3.6.0",
    "numberOfBrokerNodes": 3,
    "brokerNodeGroupInfo": {
        "clientSubnets": ["a", "b", "c"],
        "instanceType": "kafka.m7g.large",
        "securityGroups": ["sg"],
        "storageInfo": {"ebsStorageInfo": {"volumeSize": 100}},
    },
}


def test_check_accepts_what_the_sdk_types_allow():
    assert inputs.problems(MSK, GOOD_MSK) == []


def test_check_names_an_unknown_input_at_any_depth():
    bad = {
        **GOOD_MSK,
        "brokerNodeGroupInfo": {
            **GOOD_MSK["brokerNodeGroupInfo"],
            "storageInfo": {"ebsStorageInfo": {"volumeSize": 100, "volumeSizeGib": 1}},
        },
    }
    ((path, reason),) = inputs.problems(MSK, bad)
    assert path == "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSizeGib"
    assert "not a property" in reason


def test_check_names_a_missing_required_input_at_any_depth():
    bad = {**GOOD_MSK, "brokerNodeGroupInfo": {"clientSubnets": ["a"], "instanceType": "x"}}
    assert inputs.problems(MSK, bad) == [
        ("brokerNodeGroupInfo.securityGroups", "is required by ClusterBrokerNodeGroupInfoArgs and missing")
    ]


def test_check_walks_lists_of_input_types():
    token = "gcp:managedkafka/cluster:Cluster"
    ok = {
        "clusterId": "c",
        "location": "europe-west1",
        "capacityConfig": {"vcpuCount": "3", "memoryBytes": "1"},
        "gcpConfig": {"accessConfig": {"networkConfigs": [{"subnet": "s"}]}},
    }
    assert inputs.problems(token, ok) == []
    bad = {**ok, "gcpConfig": {"accessConfig": {"networkConfigs": [{"subnet": "s"}, {"subnetwork": "s"}]}}}
    assert [p for p, _ in inputs.problems(token, bad)] == [
        "gcpConfig.accessConfig.networkConfigs[1].subnetwork",
        "gcpConfig.accessConfig.networkConfigs[1].subnet",
    ]


def test_check_leaves_unknown_values_of_a_preview_alone():
    assert inputs.problems(MSK, {**GOOD_MSK, "brokerNodeGroupInfo": inputs.UNKNOWN}) == []


def test_provider_config_judges_names_only_and_accepts_the_engine_keys():
    assert inputs.problems("pulumi:providers:aws", {"region": "us-east-1", "version": "7.51.1"}) == []
    assert [p for p, _ in inputs.problems("pulumi:providers:aws", {"regoin": "us-east-1"})] == ["regoin"]


def test_diff_compares_inputs_deeply_and_replaces_only_for_force_new_properties():
    old = GOOD_MSK
    bigger = {**old, "brokerNodeGroupInfo": {**old["brokerNodeGroupInfo"], "instanceType": "kafka.m7g.xlarge"}}
    moved = {**old, "brokerNodeGroupInfo": {**old["brokerNodeGroupInfo"], "clientSubnets": ["d", "e", "f"]}}
    assert changes(old, old) == {}
    assert changes(old, bigger) == {"brokerNodeGroupInfo.instanceType": PropertyDiff.UPDATE}
    assert forcenew.replaces(MSK, set(changes(old, bigger))) == []
    assert forcenew.replaces(MSK, set(changes(old, moved))) == ["brokerNodeGroupInfo"]
    assert forcenew.replaces("random:index/randomPassword:RandomPassword", {"length"}) == ["length"]


def test_every_force_new_entry_names_a_real_input_of_its_type():
    for token, props in forcenew.FORCE_NEW.items():
        cls = inputs.args_class(token)
        for prop in props - {forcenew.ALL}:
            top = prop.split(".", 1)[0]
            assert top in inputs._shape(cls)[0], f"{token}: {prop}"
