"""The planned topics as the emulator creates them (pure, no broker)."""

from emulator import ports
from emulator.topics import EMULATED_REPLICAS, clamp_note, emulated_topics
from infra import stackfile
from infra.architectures import build_plan
from infra.config import validate


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
    assert sorted(rest.values()) == list(range(30000 + 2 * len(plan.clusters), 30000 + stack.ports_needed(plan)))
