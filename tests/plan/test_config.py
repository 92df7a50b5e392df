"""Tier 1: the config contract, without Pulumi."""

import pytest
import yaml

from infra import architectures, config, stackfile
from infra.config import validate
from infra.kinds import Architecture
from infra.validation import ConfigError, k


def problems_of(raw, stack="t"):
    with pytest.raises(ConfigError) as e:
        validate(raw, stack)
    return e.value.problems


@pytest.mark.parametrize(
    "stack,arch",
    [
        ("dev", "header-routing"),
        ("staging", "topic-per-region"),
        ("prod", "regional-clusters"),
    ],
)
def test_stack_files_are_valid_and_span_both_clouds(stack, arch):
    cfg = stackfile.load(stack)
    assert cfg.architecture == arch
    assert {r.cloud for r in cfg.regions.values()} == {"aws", "gcp"}
    assert cfg.hub.key in cfg.regions


def test_defaults_fill_in_what_the_stack_leaves_out(prod_raw):
    cfg = validate(prod_raw, "prod")
    assert cfg.name_prefix == "mck-prod"
    assert cfg.protect is True
    assert cfg.events["update_profile"].topic == config.TopicSettings()
    assert cfg.events["create_account"].topic.partitions == 12
    assert cfg.events["delete_account"].topic.retention_ms == 2592000000


def test_every_architecture_has_a_planner_and_a_component():
    from infra.components.architecture import COMPONENTS

    assert set(architectures.PLANNERS) == set(COMPONENTS) == set(Architecture)
    assert [c.type_token() for c in COMPONENTS.values()] == [
        "multicloud-kafka:architecture:HeaderRouting",
        "multicloud-kafka:architecture:TopicPerRegion",
        "multicloud-kafka:architecture:RegionalClusters",
    ]


# Each case: a change to a valid config, the key the error must name, and a
# word of the advice it must give.
BAD = {
    "unknown architecture": (lambda r: r.update({k("architecture"): "mesh"}), k("architecture"), "header-routing"),
    "missing architecture": (lambda r: r.pop(k("architecture")), k("architecture"), "choose one"),
    "unknown cloud": (
        lambda r: r[k("regions")].update({"azure/westeurope": {"cidr": "10.90.0.0/16"}}),
        f"{k('regions')}.azure/westeurope",
        "unknown cloud",
    ),
    "unreal aws region": (
        lambda r: r[k("regions")].update({"aws/us-east-7": {"cidr": "10.90.0.0/16"}}),
        f"{k('regions')}.aws/us-east-7",
        "not a region of aws",
    ),
    "gcp-style name in aws": (
        lambda r: r[k("regions")].update({"aws/europe-west1": {"cidr": "10.90.0.0/16"}}),
        f"{k('regions')}.aws/europe-west1",
        "not a region of aws",
    ),
    "key without cloud": (
        lambda r: r[k("regions")].update({"us-east-2": {"cidr": "10.90.0.0/16"}}),
        f"{k('regions')}.us-east-2",
        "<cloud>/<region>",
    ),
    "hub not a region": (lambda r: r.update({k("hub"): "aws/eu-west-1"}), k("hub"), "one of the keys"),
    "duplicate cidr": (
        lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "10.10.0.0/16"}),
        f"{k('regions')}.aws/us-west-2.cidr",
        "same range",
    ),
    "overlapping cidr": (
        lambda r: r[k("regions")]["gcp/europe-west1"].update({"cidr": "10.0.0.0/8"}),
        f"{k('regions')}.gcp/europe-west1.cidr",
        "overlaps",
    ),
    "public cidr": (
        lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "8.8.0.0/16"}),
        f"{k('regions')}.aws/us-west-2.cidr",
        "RFC 1918",
    ),
    "too small cidr": (
        lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "10.20.0.0/24"}),
        f"{k('regions')}.aws/us-west-2.cidr",
        "too small",
    ),
    "too big for a vpc": (
        lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "172.16.0.0/12"}),
        f"{k('regions')}.aws/us-west-2.cidr",
        "/16",
    ),
    "host bits": (
        lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "10.20.1.0/16"}),
        f"{k('regions')}.aws/us-west-2.cidr",
        "10.20.0.0/16",
    ),
    "not a cidr": (
        lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "ten"}),
        f"{k('regions')}.aws/us-west-2.cidr",
        "not an IPv4 CIDR",
    ),
    "missing cidr": (
        lambda r: r[k("regions")].update({"aws/eu-west-1": {}}),
        f"{k('regions')}.aws/eu-west-1.cidr",
        "required",
    ),
    "no regions": (lambda r: r.update({k("regions"): {}, k("hub"): None}), k("regions"), "at least one region"),
    "no events": (lambda r: r.update({k("events"): {}}), k("events"), "at least one event"),
    "illegal event name": (
        lambda r: r[k("events")].update({"Create.Account": {}}),
        f"{k('events')}.Create.Account",
        "lower_snake_case",
    ),
    "too long topic": (lambda r: r[k("events")].update({"e" + "x" * 240: {}}), f"{k('events')}.e", "shorten"),
    "colliding topics": (
        lambda r: r[k("events")].update({"create_account_aws_us_west_2": {}}),
        f"{k('events')}.create_account_aws_us_west_2",
        "rename",
    ),
    "gcp without project": (lambda r: r.pop("gcp:project"), "gcp:project", "GCP project"),
    "zero partitions": (
        lambda r: r[k("events")]["create_account"].update({"partitions": 0}),
        f"{k('events')}.create_account.partitions",
        "from 1",
    ),
    "min isr equals rf": (
        lambda r: r[k("events")]["update_profile"].update({"minInsyncReplicas": 3}),
        f"{k('events')}.update_profile.minInsyncReplicas",
        "set it to 2",
    ),
    "unknown topic setting": (
        lambda r: r[k("events")]["update_profile"].update({"partition": 3}),
        f"{k('events')}.update_profile.partition",
        "known: partitions",
    ),
    "unknown key": (lambda r: r.update({k("archtecture"): "x"}), k("archtecture"), "known: architecture"),
    "bad protect": (lambda r: r.update({k("protect"): "yes"}), k("protect"), "true or false"),
    "bad prefix": (lambda r: r.update({k("namePrefix"): "Prod_"}), k("namePrefix"), "lower-case"),
    "bad msk type": (
        lambda r: r.update({k("msk"): {"instanceType": "m5.large"}}),
        f"{k('msk')}.instanceType",
        "kafka.m7g.large",
    ),
    "gmk too few vcpu": (
        lambda r: r.update({k("managedKafka"): {"vcpuCount": 2, "memoryGib": 4}}),
        f"{k('managedKafka')}.vcpuCount",
        "from 3",
    ),
    "gmk memory ratio": (
        lambda r: r.update({k("managedKafka"): {"vcpuCount": 3, "memoryGib": 30}}),
        f"{k('managedKafka')}.memoryGib",
        "1 to 8 GiB per vCPU",
    ),
    "log retention not cloudwatch's": (
        lambda r: r.update({k("logRetentionDays"): 45}),
        k("logRetentionDays"),
        "30, 60",
    ),
    "log retention not a number": (
        lambda r: r.update({k("logRetentionDays"): "month"}),
        k("logRetentionDays"),
        "whole number",
    ),
    "negative scram rotation": (lambda r: r.update({k("scramRotation"): -1}), k("scramRotation"), "of at least 0"),
    "regions not a map": (lambda r: r.update({k("regions"): ["aws/us-east-1"]}), k("regions"), "must be a map"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_mistake_names_key_value_and_fix(prod_raw, name):
    mutate, key, advice = BAD[name]
    mutate(prod_raw)
    problems = problems_of(prod_raw)
    matching = [p for p in problems if p.key.startswith(key) and advice in p.fix]
    assert matching, f"no problem for {key} advising {advice!r}; got: {[str(p) for p in problems]}"


def test_several_mistakes_are_reported_together(prod_raw):
    for name in ("unknown architecture", "public cidr", "illegal event name", "gcp without project"):
        BAD[name][0](prod_raw)
    problems = problems_of(prod_raw)
    keys = {p.key for p in problems}
    assert {k("architecture"), f"{k('regions')}.aws/us-west-2.cidr", "gcp:project"} <= keys
    assert any(key.startswith(f"{k('events')}.Create.Account") for key in keys)


def test_error_message_lists_every_problem_with_its_value(prod_raw):
    BAD["unknown architecture"][0](prod_raw)
    BAD["public cidr"][0](prod_raw)
    with pytest.raises(ConfigError) as e:
        validate(prod_raw, "prod")
    text = str(e.value)
    assert "stack 'prod': 2 config problems" in text
    assert "'mesh'" in text and "'8.8.0.0/16'" in text


def test_pulumi_hands_objects_as_json_text(prod_raw):
    import json

    as_pulumi = {key: json.dumps(v) if isinstance(v, dict) else v for key, v in prod_raw.items()}
    assert validate(stackfile.decode(as_pulumi), "prod") == validate(prod_raw, "prod")


def test_missing_stack_file_names_the_stacks_there():
    with pytest.raises(ConfigError, match="stacks here: dev, prod, staging"):
        stackfile.load("qa")


def test_project_file_declares_config_the_way_pulumi_accepts():
    """Pulumi.yaml's config types are limited to string/integer/boolean/array."""
    project = yaml.safe_load((stackfile.ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == config.NS
    assert project["stackConfigDir"] == "stacks"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    for name, decl in project["config"].items():
        assert name in config.KEYS
        assert decl["type"] in ("string", "integer", "boolean", "array")
        assert decl["description"]


def test_log_retention_defaults_to_30_days_and_takes_any_cloudwatch_period(prod_raw):
    assert validate(prod_raw, "p").log_retention_days == 30
    for days in (0, 1, 365, 3653):
        assert validate({**prod_raw, k("logRetentionDays"): days}, "p").log_retention_days == days
    assert validate({**prod_raw, k("logRetentionDays"): "731"}, "p").log_retention_days == 731
