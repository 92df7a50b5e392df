"""Tier 1: what a config change does to the plan, and what puts data at risk."""

import copy
import subprocess

import pytest

from infra import cli, plandiff, stackfile
from infra.architectures import build_plan
from infra.config import validate
from infra.validation import k


@pytest.fixture
def prod_raw(prod_raw):
    """prod without its regional API: these tests grow and shrink regions,
    which the api key would (rightly) ask a backend decision for."""
    prod_raw.pop(k("api"), None)
    return prod_raw


def changes(raw, mutate):
    new = copy.deepcopy(raw)
    mutate(new)
    return plandiff.diff(build_plan(validate(raw, "prod")), build_plan(validate(new, "prod")))


def at_risk(cs):
    return {(c.action, c.what, c.key) for c in cs if c.at_risk}


def test_no_change_no_diff(prod_raw):
    assert changes(prod_raw, lambda r: None) == []


def test_adding_an_event_or_region_risks_nothing(prod_raw):
    def grow(r):
        r[k("events")]["close_account"] = {}
        r[k("regions")]["aws/eu-west-1"] = {"cidr": "10.50.0.0/16"}

    cs = changes(prod_raw, grow)
    assert cs and not at_risk(cs)
    assert ("add", "cluster", "aws/eu-west-1") in {(c.action, c.what, c.key) for c in cs}


def test_dropping_a_region_flags_its_cluster_and_topics(prod_raw):
    risky = at_risk(changes(prod_raw, lambda r: r[k("regions")].pop("gcp/asia-southeast1")))
    assert ("remove", "cluster", "gcp/asia-southeast1") in risky
    assert ("remove", "topic", "aws/us-east-1 CREATE_ACCOUNT_GCP_ASIA_SOUTHEAST1") in risky


def test_switching_architecture_flags_the_topics_it_leaves(prod_raw):
    cs = changes(prod_raw, lambda r: r.update({k("architecture"): "header-routing"}))
    assert ("remove", "topic", "aws/us-east-1 CREATE_ACCOUNT_AWS_US_WEST_2") in at_risk(cs)
    assert ("add", "topic", "aws/us-east-1 CREATE_ACCOUNT") in {(c.action, c.what, c.key) for c in cs}


@pytest.mark.parametrize(
    "setting,value,risky",
    [
        ("partitions", 6, True),  # fewer than 12
        ("partitions", 24, False),
        ("retentionMs", 3600000, True),  # shorter
        ("retentionMs", -1, False),  # longer: keep forever
        ("replicationFactor", 4, True),
        ("cleanupPolicy", "compact", True),
        ("minInsyncReplicas", 1, False),
    ],
)
def test_topic_setting_changes(prod_raw, setting, value, risky):
    cs = changes(prod_raw, lambda r: r[k("events")]["create_account"].update({setting: value}))
    assert cs and all(c.what == "topic" for c in cs)
    assert all(c.at_risk == risky for c in cs)


def test_renumbering_a_network_or_renaming_the_prefix_is_at_risk(prod_raw):
    assert ("change", "network", "aws/us-west-2") in at_risk(
        changes(prod_raw, lambda r: r[k("regions")]["aws/us-west-2"].update({"cidr": "10.21.0.0/16"}))
    )
    assert ("change", "namePrefix", "prod") in at_risk(
        changes(prod_raw, lambda r: r.update({k("namePrefix"): "acme-prod"}))
    )


def test_plan_against_a_git_revision(capsys):
    path = "stacks/Pulumi.dev.yaml"
    if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", path], cwd=stackfile.ROOT).returncode:
        pytest.skip(f"{path} has uncommitted changes")
    assert cli.main(["plan", "dev", "--against", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "Changes to stack dev since HEAD" in out and "(none)" in out
