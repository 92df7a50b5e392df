"""The standby hub: its config keys, its place in every architecture's plan, and what flipping activeHub does."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import access, plandiff, vpn
from infra.architectures import build_plan
from infra.config import validate
from infra.kinds import ActiveHub, Architecture, ClusterRole, LinkKind, MirrorMechanism
from infra.plan import Plan
from infra.render import plan_text
from infra.switchguard import Deployed, dropped, refusal
from infra.validation import ConfigError, k
from routing_client.contract import Contract
from tests.plan.test_plan import raw_configs
from tests.support.stacks import AWS_HUB, GCP_HUB, make_plan

ARCHITECTURES = [a.value for a in Architecture]
STANDBY = "aws/us-west-2"
STANDBY_KEY = "aws/us-west-2/standby"


def plan_with(architecture: str, active: str = "hub", regions=AWS_HUB, hub="aws/us-east-1", standby=STANDBY) -> Plan:
    return make_plan(architecture, regions, hub=hub, standbyHub=standby, activeHub=active)


# --- config ------------------------------------------------------------------------


def test_no_standby_by_default_and_an_empty_standby_is_none():
    assert make_plan("regional-clusters", AWS_HUB).config.standby is None
    cfg = make_plan("regional-clusters", AWS_HUB, standbyHub="").config
    assert (cfg.standby, cfg.active_hub, cfg.failover_after_seconds) == (None, ActiveHub.HUB, 10.0)


@pytest.mark.parametrize(
    "keys,problem",
    [
        ({"standbyHub": "aws/us-east-1"}, "multicloud-kafka:standbyHub = 'aws/us-east-1': is the hub itself"),
        ({"standbyHub": "aws/eu-west-1"}, "multicloud-kafka:standbyHub = 'aws/eu-west-1': must be one of the keys"),
        ({"standbyHub": 3}, "multicloud-kafka:standbyHub = '3': must be one of the keys"),
        ({"activeHub": "standby"}, "multicloud-kafka:activeHub = 'standby': needs a standby hub"),
        (
            {"standbyHub": STANDBY, "activeHub": "west"},
            "multicloud-kafka:activeHub = 'west': choose one of hub, standby",
        ),
        (
            {"failoverAfterSeconds": 0},
            "multicloud-kafka:failoverAfterSeconds = '0': must be a number of seconds above 0",
        ),
        ({"failoverAfterSeconds": "soon"}, "multicloud-kafka:failoverAfterSeconds = 'soon': must be a number"),
        ({"failoverAfterSeconds": 7200}, "multicloud-kafka:failoverAfterSeconds = '7200': must be a number"),
        ({"failoverAfterSeconds": True}, "multicloud-kafka:failoverAfterSeconds = 'true': must be a number"),
    ],
)
def test_bad_standby_keys_are_refused_naming_key_value_and_fix(keys, problem):
    with pytest.raises(ConfigError) as e:
        make_plan("topic-per-region", AWS_HUB, **keys)
    assert problem in str(e.value)
    assert len(e.value.problems) == 1, e.value.problems


def test_a_refused_standby_is_reported_once_not_again_through_active_hub():
    with pytest.raises(ConfigError) as e:
        make_plan("topic-per-region", AWS_HUB, standbyHub="aws/eu-west-1", activeHub="standby")
    assert [p.key for p in e.value.problems] == [k("standbyHub")]


def test_failover_after_seconds_takes_fractions_also_as_text():
    assert make_plan("topic-per-region", AWS_HUB, failoverAfterSeconds=2.5).config.failover_after_seconds == 2.5
    cfg = validate(
        {
            k("architecture"): "topic-per-region",
            k("hub"): "aws/us-east-1",
            k("regions"): {"aws/us-east-1": {"cidr": "10.10.0.0/16"}},
            k("events"): {"a": {}},
            k("failoverAfterSeconds"): "4.5",
        },
        "t",
    )
    assert cfg.failover_after_seconds == 4.5


# --- the plan, per architecture -------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_standby_holds_every_hub_topic_under_the_same_names_replicated_with_group_offsets(architecture):
    plan = plan_with(architecture)
    standby = plan.clusters[STANDBY_KEY]
    assert standby.role == ClusterRole.STANDBY and standby.name == "mck-test-aws-us-west-2-standby"
    assert plan.standby == standby and plan.active == plan.hub
    assert plan.topics[STANDBY_KEY] == plan.topics["aws/us-east-1"]
    flow = plan.mirrors[f"aws/us-east-1->{STANDBY_KEY}"]
    assert flow.topics == tuple(sorted(plan.topics["aws/us-east-1"]))
    assert flow.sync_group_offsets
    # Both on AWS: MSK Replicator.
    assert flow.mechanism == MirrorMechanism.MSK_REPLICATOR


def test_the_standby_and_a_local_cluster_of_one_region_differ_in_key_and_every_name():
    plan = plan_with("regional-clusters")
    local, standby = plan.clusters[STANDBY], plan.clusters[STANDBY_KEY]
    assert local.region == standby.region
    assert local.name != standby.name and local.slug != standby.slug
    names = [plan.flow_name(f) for f in plan.mirrors.values()]
    assert len(set(names)) == len(names), names


@pytest.mark.parametrize(
    "regions,hub,standby,mechanism",
    [
        (AWS_HUB, "aws/us-east-1", "gcp/europe-west1", MirrorMechanism.MM2_GCP_CONNECT),
        (GCP_HUB, "gcp/europe-west1", "aws/us-east-1", MirrorMechanism.MM2_MSK_CONNECT),
        (GCP_HUB, "gcp/europe-west1", "gcp/asia-southeast1", MirrorMechanism.MM2_GCP_CONNECT),
    ],
)
def test_mirrormaker_2_runs_the_replication_unless_both_hubs_are_on_aws(regions, hub, standby, mechanism):
    for active in ("hub", "standby"):
        plan = plan_with("topic-per-region", active, regions, hub, standby)
        (flow,) = [
            f for f in plan.mirrors.values() if plan.clusters[f.target].role in (ClusterRole.HUB, ClusterRole.STANDBY)
        ]
        assert flow.mechanism == (mechanism if active == "hub" else flow.mechanism)
        assert flow.sync_group_offsets


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_contract_names_the_other_hub_as_its_failover(architecture):
    plan = plan_with(architecture)
    for region, contract in plan.routing.items():
        assert contract.produce_cluster == "aws/us-east-1"
        assert contract.failover is not None and contract.failover.produce_cluster == STANDBY_KEY
        assert contract.failover.after_seconds == 10.0
        # A region reading its own local cluster keeps reading it; one reading the hub turns to the standby.
        reads_hub = contract.consume_cluster == "aws/us-east-1"
        assert contract.failover.consume_cluster == (STANDBY_KEY if reads_hub else contract.consume_cluster)
        doc = contract.to_dict()
        assert doc["failover"] == {
            "produceCluster": STANDBY_KEY,
            "consumeCluster": contract.failover.consume_cluster,
            "afterSeconds": 10.0,
        }
        parsed = Contract.from_dict(json.dumps(doc))
        assert parsed.failover is not None and parsed.failover.produce_cluster == STANDBY_KEY, region


def test_contracts_of_a_stack_without_standby_have_no_failover_section():
    plan = make_plan("header-routing", AWS_HUB)
    assert all("failover" not in c.to_dict() and c.failover is None for c in plan.routing.values())


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_flipping_active_hub_reverses_replication_repoints_contracts_and_keeps_every_cluster_and_topic(architecture):
    before, after = plan_with(architecture, "hub"), plan_with(architecture, "standby")
    assert after.active.key == STANDBY_KEY
    assert after.clusters == before.clusters and after.topics == before.topics
    gone = dropped(before, after)
    assert gone.clusters == () and gone.topics == ()
    assert f"{STANDBY_KEY}->aws/us-east-1" in after.mirrors and f"aws/us-east-1->{STANDBY_KEY}" not in after.mirrors
    for contract in after.routing.values():
        assert contract.produce_cluster == STANDBY_KEY
        assert contract.failover is not None and contract.failover.produce_cluster == "aws/us-east-1"
    # The switch guard lets the flip through, protected or not.
    deployed = Deployed(architecture, True, STANDBY, "hub")
    assert refusal(deployed, after) is None
    assert refusal(dataclasses.replace(deployed, active_hub="standby"), before) is None


def test_under_regional_clusters_each_region_is_fed_from_the_active_hub():
    for active, source in (("hub", "aws/us-east-1"), ("standby", STANDBY_KEY)):
        plan = plan_with("regional-clusters", active)
        locals_ = [c.key for c in plan.clusters.values() if c.role == ClusterRole.LOCAL]
        fed = {f.target: f.source for f in plan.mirrors.values() if f.target in locals_}
        assert fed == dict.fromkeys(locals_, source)
        # The hub's region reads the active hub.
        assert plan.routing["aws/us-east-1"].consume_cluster == source


def test_removing_or_moving_a_protected_standby_is_refused_naming_its_cluster():
    plan = make_plan("topic-per-region", AWS_HUB)
    message = refusal(Deployed("topic-per-region", True, STANDBY, "hub"), plan)
    assert message is not None
    assert "moving the standby hub aws/us-west-2 -> none would delete protected resources" in message
    assert f"cluster {STANDBY_KEY} (kept in the cloud" in message
    moved = plan_with("topic-per-region", standby="gcp/europe-west1")
    assert refusal(Deployed("topic-per-region", True, STANDBY, "hub"), moved)
    assert (
        refusal(
            Deployed("topic-per-region", False, STANDBY, "hub"), make_plan("topic-per-region", AWS_HUB, protect=False)
        )
        is None
    )
    # Adding a standby drops nothing.
    assert refusal(Deployed("topic-per-region", True), moved) is None


# --- links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "regions,hub,standby",
    [
        (AWS_HUB, "aws/us-east-1", STANDBY),
        (GCP_HUB, "gcp/europe-west1", "aws/us-east-1"),
        (GCP_HUB, "gcp/europe-west1", "gcp/asia-southeast1"),
    ],
)
def test_every_region_has_a_link_to_the_standby_with_tunnels_clear_of_the_hub_links(regions, hub, standby):
    plan = plan_with("regional-clusters", regions=regions, hub=hub, standby=standby)
    without = make_plan("regional-clusters", regions, hub=hub)
    for key, link in without.links.items():
        assert plan.links[key] == dataclasses.replace(link, name_forwarding=plan.links[key].name_forwarding)
    for region in regions:
        if region in (hub, standby):
            continue
        link = plan.links[f"{standby}<->{region}"]
        assert (link.hub, link.spoke) == (standby, region)
        assert len(link.tunnels) == (4 if link.kind == LinkKind.HA_VPN else 0)
        assert plan.path(standby, region) == (link.key,)
    assert vpn.problems(plan) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=raw_configs(), data=st.data())
def test_any_standby_plan_keeps_tunnels_apart_and_contracts_valid(raw, data):
    regions = list(raw[k("regions")])
    others = [r for r in regions if r != raw[k("hub")]]
    if not others:
        return
    raw = {
        **raw,
        k("standbyHub"): data.draw(st.sampled_from(others)),
        k("activeHub"): data.draw(st.sampled_from(["hub", "standby"])),
    }
    plan = build_plan(validate(raw, "t"))
    assert vpn.problems(plan) == []
    for contract in plan.routing.values():
        Contract.from_dict(contract.to_dict())
    assert len(plan.links) == (len(regions) - 1) + (len(regions) - 2)
    assert plan.standby is not None and plan.topics[plan.standby.key] == plan.topics[plan.hub.key]


# --- access --------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_services_hold_the_same_grants_on_the_failover_clusters_and_the_flow_its_own(architecture):
    plan = plan_with(architecture)
    for region, contract in plan.routing.items():
        grants = plan.principals[access.services_key(region)].grants
        assert contract.failover is not None
        assert set(grants[contract.failover.produce_cluster].produce) == set(grants[contract.produce_cluster].produce)
        assert set(grants[contract.failover.consume_cluster].consume) == set(contract.consume.values())
    flow = plan.principals[access.mirror_key(f"aws/us-east-1->{STANDBY_KEY}")]
    assert flow.home == STANDBY
    assert set(flow.grants["aws/us-east-1"].consume) == set(plan.topics["aws/us-east-1"])
    assert set(flow.grants[STANDBY_KEY].produce) == set(plan.topics[STANDBY_KEY])


def test_replication_between_the_hubs_does_not_break_isolation():
    for architecture in ("topic-per-region", "regional-clusters"):
        plan = plan_with(architecture)
        readers = access.readers_by_region(plan)
        assert all(access.isolated(plan, region, keys) for region, keys in readers.items()), architecture


# --- what the tools show ---------------------------------------------------------------


def test_plan_tables_show_the_standby_its_topics_flow_links_and_failover():
    text = plan_text(plan_with("regional-clusters"))
    assert "standby hub aws/us-west-2/standby, active: aws/us-east-1 (activeHub hub)" in text
    assert f"Topics on {STANDBY_KEY}" in text
    (flow,) = [line.split() for line in text.splitlines() if line.startswith(f"aws/us-east-1->{STANDBY_KEY} ")]
    assert flow[1:4] == ["msk-replicator", "synced", "all"]
    assert "aws/us-west-2<->gcp/europe-west1" in text
    assert "Failover: where each region turns when the active hub is unreachable" in text


def test_plan_against_shows_an_active_hub_flip_and_what_it_repoints_without_data_at_risk():
    changes = plandiff.diff(plan_with("regional-clusters", "hub"), plan_with("regional-clusters", "standby"))
    by_what = {(c.what, c.key): c for c in changes}
    flip = by_what[("activeHub", "test")]
    assert "hub -> standby: producers move from aws/us-east-1 to aws/us-west-2/standby" in flip.detail
    assert "produce aws/us-east-1 -> aws/us-west-2/standby" in by_what[("routing", "gcp/europe-west1")].detail
    assert ("mirror flow", f"{STANDBY_KEY}->gcp/europe-west1") in by_what
    assert not any(c.at_risk for c in changes), [c for c in changes if c.at_risk]


def test_plan_against_marks_dropping_the_standby_as_at_risk():
    changes = plandiff.diff(plan_with("topic-per-region"), make_plan("topic-per-region", AWS_HUB))
    standby = [c for c in changes if c.what == "standbyHub"]
    assert standby and standby[0].at_risk
    assert any(c.what == "cluster" and c.key == STANDBY_KEY and c.at_risk for c in changes)
