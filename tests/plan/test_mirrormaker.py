"""Tier 1: the MirrorMaker 2 connector configuration of each planned flow."""

import dataclasses

from infra import mirrormaker, stackfile
from infra.architectures import build_plan
from infra.mirrormaker import Endpoint, connector_configs


def prod_flows():
    return list(build_plan(stackfile.load("prod")).mirrors.values())


def test_each_flow_carries_exactly_its_topics_with_identity_names():
    for flow in prod_flows():
        configs = connector_configs(flow, Endpoint("hub", "h:9096"), Endpoint("local", "l:9092"))
        assert set(configs) == set(mirrormaker.connector_names(flow).values())
        for name, c in configs.items():
            assert c["name"] == name
            assert c["topics"].split(",") == list(flow.topics)
            assert c["replication.policy.class"].endswith("IdentityReplicationPolicy")
            assert c["source.cluster.alias"] == "hub" and c["target.cluster.alias"] == "local"
            assert c["offset-syncs.topic.location"] == "target"
        source = configs[mirrormaker.connector_names(flow)["source"]]
        assert source["sync.topic.configs.enabled"] == "false"
        checkpoint = configs[mirrormaker.connector_names(flow)["checkpoint"]]
        assert checkpoint["sync.group.offsets.enabled"] == "true"


def test_endpoint_values_are_placed_untouched_so_secrets_stay_outputs():
    secret, bootstrap = object(), object()
    flow = prod_flows()[0]
    configs = connector_configs(
        flow,
        Endpoint("a", bootstrap, {"sasl.jaas.config": secret, "security.protocol": "SASL_SSL"}),
        Endpoint("b", "l:9092"),
    )
    for c in configs.values():
        assert c["source.cluster.bootstrap.servers"] is bootstrap
        assert c["source.cluster.sasl.jaas.config"] is secret
        assert c["source.cluster.security.protocol"] == "SASL_SSL"
        assert "target.cluster.sasl.jaas.config" not in c


def test_aliases_have_no_slash():
    assert mirrormaker.alias("gcp/europe-west1") == "gcp-europe-west1"


def test_a_flow_that_does_not_sync_group_offsets_has_no_checkpoint_connector():
    flow = dataclasses.replace(prod_flows()[0], sync_group_offsets=False)
    configs = connector_configs(flow, Endpoint("hub", "h:9096"), Endpoint("local", "l:9092"))
    assert list(mirrormaker.connector_names(flow)) == ["source"]
    assert set(configs) == {mirrormaker.connector_names(flow)["source"]}


def test_a_standby_cluster_gets_an_alias_kafka_accepts_in_topic_names():
    assert mirrormaker.alias("aws/us-west-2/standby") == "aws-us-west-2-standby"
