"""The switch guard's decision, from the plan alone (the engine tier runs it for real)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from infra import stackfile
from infra.architectures import build_plan
from infra.switchguard import MIGRATIONS, Deployed, refusal

HEADER, PER_REGION, REGIONAL = "header-routing", "topic-per-region", "regional-clusters"
# prod's standby hub, as its last update records it.
PROD_STANDBY = "aws/us-west-2"


def plan(stack: str, architecture: str, protect: bool):
    return build_plan(replace(stackfile.load(stack), architecture=architecture, protect=protect))


def test_a_protected_switch_dropping_clusters_names_them_the_mirror_flows_and_the_migration():
    message = refusal(Deployed(REGIONAL, True, PROD_STANDBY), plan("prod", PER_REGION, True))
    assert message is not None
    assert "switching architecture regional-clusters -> topic-per-region would delete protected" in message
    for region in ("aws/us-west-2", "gcp/europe-west1", "gcp/asia-southeast1"):
        assert f"cluster {region} (kept in the cloud" in message
        assert f"topic {region}/" in message
    assert "mirror flow" in message and MIGRATIONS in message


@pytest.mark.parametrize("frm,to", [(HEADER, PER_REGION), (PER_REGION, HEADER), (REGIONAL, HEADER), (HEADER, REGIONAL)])
def test_every_protected_switch_that_drops_topics_is_refused(frm, to):
    assert refusal(Deployed(frm, True), plan("staging", to, True))


def test_a_switch_that_only_adds_passes_even_when_protected():
    assert refusal(Deployed(PER_REGION, True, PROD_STANDBY), plan("prod", REGIONAL, True)) is None


def test_unprotecting_in_the_same_update_as_the_switch_is_refused():
    """The state still protects what the switch drops: the engine would fail after deleting the flows."""
    assert refusal(Deployed(REGIONAL, True, PROD_STANDBY), plan("prod", PER_REGION, False))


def test_unprotected_before_and_now_passes():
    assert refusal(Deployed(REGIONAL, False, PROD_STANDBY), plan("prod", PER_REGION, False)) is None


def test_a_new_stack_or_an_unchanged_architecture_passes():
    assert refusal(None, plan("prod", REGIONAL, True)) is None
    assert refusal(Deployed(REGIONAL, True, PROD_STANDBY), plan("prod", REGIONAL, True)) is None
