"""The planned topics as the emulator creates them (pure, no broker)."""

import pytest

from emulator import ports
from emulator.topics import EMULATED_REPLICAS, clamp_note, emulated_topics
from infra import stackfile
from infra.architectures import build_plan
from infra.config import validate

pytestmark = pytest.mark.plan


def test_every_planned_topic_on_every_planned_cluster_keeps_its_settings_but_replication():
    plan = build_plan(stackfile.load("prod"))
    topics = emulated_topics(plan)
    assert set(topics) == set(plan.clusters)
    for cluster, planned in plan.topics.items():
        assert set(topics[cluster]) == set(planned)
        for name, topic in planned.items():
            t = topics[cluster][name]
            assert t.partitions == topic.settings.partitions
            assert t.replication_factor == EMULATED_REPLICAS
            assert t.config["retention.ms"] == str(topic.settings.retention_ms)
            assert t.config["cleanup.policy"] == topic.settings.cleanup_policy
            assert t.config["min.insync.replicas"] == "1"
            assert ("replication.factor", "3", "1") in t.clamped


def test_the_clamp_is_said_once_with_planned_and_emulated_values():
    note = clamp_note(emulated_topics(build_plan(stackfile.load("dev"))))
    assert "replication.factor 3 -> 1" in note and "min.insync.replicas 2 -> 1" in note


def test_nothing_is_said_when_the_plan_fits_one_broker():
    raw = stackfile.read(stackfile.stack_path("prod"))
    raw["multicloud-kafka:topicDefaults"] = {"replicationFactor": 1, "minInsyncReplicas": 1}
    plan = build_plan(validate(raw, "prod"))
    assert clamp_note(emulated_topics(plan)) is None


def test_ports_are_two_per_cluster_in_plan_order_without_overlap():
    plan = build_plan(stackfile.load("prod"))
    layout = ports.layout(list(plan.clusters), 30000)
    assert list(layout) == list(plan.clusters)
    assert layout[plan.config.hub.key] == (30000, 30001)
    used = [p for pair in layout.values() for p in pair]
    assert sorted(used) == list(range(30000, 30000 + 2 * len(plan.clusters)))


def test_each_mirror_target_gets_one_worker_port_after_the_clusters():
    from emulator import connect, stack

    plan = build_plan(stackfile.load("prod"))
    targets = list(connect.flows_by_target(plan.mirrors))
    assert sorted(targets) == sorted(f.target for f in plan.mirrors.values())
    rest = ports.worker_layout(len(plan.clusters), targets, 30000)
    first = 30000 + 2 * len(plan.clusters)
    assert sorted(rest.values()) == list(range(first, first + len(targets)))
    # prod has a standby hub: one more port, for the worker that copies back to the hub on failback.
    assert stack.ports_needed(plan) == 2 * len(plan.clusters) + len(targets) + 1


def test_mirror_connectors_are_the_clouds_but_for_addresses_and_internal_replication():
    from emulator import connect, credentials
    from infra import access, mirrormaker

    plan = build_plan(stackfile.load("prod"))
    bootstrap = {key: f"127.0.0.1:{30000 + 2 * i}" for i, key in enumerate(plan.clusters)}
    logins = credentials.generate(plan)
    for _target, flows in connect.flows_by_target(plan.mirrors).items():
        emulated = connect.configs_for(flows, bootstrap, logins)
        for flow in flows:
            cloud = mirrormaker.connector_configs(
                flow,
                mirrormaker.Endpoint(mirrormaker.alias(flow.source), "source:9096"),
                mirrormaker.Endpoint(mirrormaker.alias(flow.target), "target:9092"),
            )
            for name, config in cloud.items():
                differ = {k for k in config if emulated[name].get(k) != config[k]}
                login = logins.java_client(logins.principals[access.mirror_key(flow.key)])
                added = {f"{side}.{k}" for side in ("source.cluster", "target.cluster") for k in login}
                overrides = {f"{kind}.override.{k}" for kind in ("producer", "admin") for k in login}
                assert set(emulated[name]) == set(config) | added | overrides
                assert differ == {
                    "source.cluster.bootstrap.servers",
                    "target.cluster.bootstrap.servers",
                    *(k for k in config if k.endswith("replication.factor")),
                }
                # Each connector logs in as its own flow, everywhere.
                assert {emulated[name][k] for k in added | overrides if k.endswith("jaas.config")} == {
                    login["sasl.jaas.config"]
                }
                assert all(emulated[name][k] == "1" for k in differ if k.endswith("replication.factor"))
    props = connect.worker_properties("gcp/europe-west1", "127.0.0.1:30006", 30010, {"security.protocol": "x"})
    assert props["bootstrap.servers"] == "127.0.0.1:30006" and props["listeners"] == "http://127.0.0.1:30010"
    assert all(
        connect.internal(props[k]) for k in ("config.storage.topic", "offset.storage.topic", "status.storage.topic")
    )
