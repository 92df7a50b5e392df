"""Tier 5: the real Pulumi engine runs the program (docs/engine.md).

The CLI (`scripts/pulumi --path`) drives `infra.components.program.main`
through the Automation API against stand-in providers that speak the
provider protocol. What this proves and what the stand-ins stand in for:
docs/engine.md.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from infra.api.plan import ApiPlan
from infra.plan import Plan
from infra.switchguard import MIGRATIONS
from tests.support.engine import expected
from tests.support.engine.driver import EngineBed, Failed, Run, real_providers
from tests.support.engine.expected import same_identity

pytestmark = pytest.mark.engine

STACKS = ("dev", "staging", "prod")
HEADER, PER_REGION, REGIONAL = "header-routing", "topic-per-region", "regional-clusters"
# From staging's own architecture through every ordered pair once.
SWITCHES = (
    (PER_REGION, HEADER),
    (HEADER, REGIONAL),
    (REGIONAL, PER_REGION),
    (PER_REGION, REGIONAL),
    (REGIONAL, HEADER),
    (HEADER, PER_REGION),
)
REPLACING = {"replace", "create-replacement", "delete-replaced"}
SCRAM_ASSOCIATION = "aws:msk/scramSecretAssociation:ScramSecretAssociation"
# What holds data and is retain_on_delete: the cloud must never see a Delete of it.
RETAINED_TYPES = {
    "aws:msk/cluster:Cluster",
    "aws:msk/topic:Topic",
    "aws:kms/key:Key",
    "aws:msk/configuration:Configuration",
    "gcp:managedkafka/cluster:Cluster",
    "gcp:managedkafka/topic:Topic",
}
# What every architecture of a stack shares, by type: networks, links, clusters (the hub), topics.
SHARED_TYPES = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "gcp:compute/network:Network",
    "gcp:compute/subnetwork:Subnetwork",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
    "aws:ec2/vpnConnection:VpnConnection",
    "gcp:compute/vPNTunnel:VPNTunnel",
    "gcp:compute/haVpnGateway:HaVpnGateway",
} | RETAINED_TYPES
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SIG_KEY = "4dabf18193072939515e22adb298388d"

ledger_only = pytest.mark.skipif(real_providers(), reason="the ledger is the stand-ins'; real providers keep none")


def name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


# --- up from empty, then nothing ------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_up_from_empty_creates_what_the_program_registers_then_a_second_up_changes_nothing(
    bed: EngineBed, deployed, stack: str
) -> None:
    first = deployed(stack)
    registered = expected.registrations(bed.stack_file(stack), stack)
    created = Counter(s.type for s in first.changed() if not _default_provider(s.urn))
    assert {s.op for s in first.changed()} == {"create"}
    assert created == Counter(r.type for r in registered.values())

    second = bed.up(stack)
    assert second.changed() == [], f"second up of {stack} changed: {second.changed()[:10]}"
    assert len(second.steps) == len(first.steps)


def _default_provider(urn: str) -> bool:
    return "::pulumi:providers:" in urn and name_of(urn).startswith("default")


# --- secrets ---------------------------------------------------------------------


SECRET_OUTPUTS = {"random:index/randomPassword:RandomPassword": "result", "gcp:serviceaccount/key:Key": "privateKey"}


def _secret_values(resources: list[dict[str, Any]]) -> set[str]:
    """Generated passwords and pre-shared keys (RandomPassword results) and service-account keys, in clear.

    `pulumi stack export --show-secrets` has each as {<sig>: <secret sig>, plaintext: <the value as JSON>}.
    """
    out = set()
    for r in resources:
        if r["type"] in SECRET_OUTPUTS:
            value = r["outputs"][SECRET_OUTPUTS[r["type"]]]
            assert value.get(SIG_KEY) == SECRET_SIG, r["urn"]
            out.add(json.loads(value["plaintext"]))
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_generated_secrets_are_ciphertext_in_the_exported_state(bed: EngineBed, deployed, stack: str) -> None:
    deployed(stack)
    clear = bed.cli_json(stack, "stack", "export", "--show-secrets")["deployment"]["resources"]
    secrets = _secret_values(clear)
    exported = bed.cli_json(stack, "stack", "export")
    text = json.dumps(exported)
    leaked = sorted(s[:6] + "..." for s in secrets if s in text)
    assert not leaked, f"{stack}: {len(leaked)} secrets in clear in `pulumi stack export`"
    # Each one is there, as ciphertext.
    for r in exported["deployment"]["resources"]:
        if r["type"] in SECRET_OUTPUTS:
            value = r["outputs"][SECRET_OUTPUTS[r["type"]]]
            assert value.get(SIG_KEY) == SECRET_SIG and value.get("ciphertext"), r["urn"]
    # Every stack spans both clouds: SCRAM passwords, VPN keys and service-account keys.
    assert secrets


# --- outputs ---------------------------------------------------------------------


def _check_region(key: str, value: dict[str, Any], plan: Plan, api_plan: ApiPlan | None) -> None:
    contract = plan.routing[key]
    served = api_plan is not None and key in api_plan.endpoints
    assert set(value) == {"bootstrap", "routing"} | ({"api"} if served else set()), key
    assert set(value["bootstrap"]) == contract.clusters()
    assert all(isinstance(a, str) and re.search(r":\d+$", a) for a in value["bootstrap"].values())
    assert json.loads(value["routing"]) == json.loads(json.dumps(contract.to_dict()))
    if served:
        assert set(value["api"]) == {"url", "hostname", "globalUrl", "latencyRegion"}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_output_json_has_the_shape_the_readme_documents(bed: EngineBed, deployed, stack: str) -> None:
    """README "Deploying on AWS" > "Outputs", and "Regional API" for `api`."""
    deployed(stack)
    out = bed.cli_json(stack, "stack", "output", "--json")
    plan = bed.plan(stack)
    api_plan = plan.api
    assert set(out) == {"architecture", "hubBootstrap", "regions", "monitoring", "access"} | (
        {"api"} if api_plan else set()
    )
    # docs/security.md: each region's services' IAM policy (AWS) or service account (GCP).
    assert set(out["access"]) <= set(plan.config.regions)
    for key, held in out["access"].items():
        expected = "policyArn" if plan.config.regions[key].cloud == "aws" else "serviceAccount"
        assert set(held) == {expected} and isinstance(held[expected], str), key
    assert out["architecture"] == plan.config.architecture
    assert isinstance(out["hubBootstrap"], str) and out["hubBootstrap"].endswith(":9098")
    assert set(out["regions"]) == set(plan.config.regions)
    for key, value in out["regions"].items():
        _check_region(key, value, plan, api_plan)
    for watched in out["monitoring"].values():
        assert set(watched) == {"dashboard", "notifications"} and set(watched["dashboard"]) == {"name", "region"}
    if api_plan:
        assert set(out["api"]) == {"hostname", "url", "regions", "skipped"}
        assert set(out["api"]["regions"]) == set(api_plan.endpoints)
        assert out["api"]["skipped"] == list(api_plan.skipped)


# --- the switch matrix on an unprotected stack -------------------------------------


def _switch(bed: EngineBed, stack: str, architecture: str) -> tuple[Run, dict[str, Counter[str]], set[str]]:
    """Switches `stack` with one `up`: (the run, the steps the mocks say it must take, shared identities)."""
    old = expected.registrations(bed.stack_file(stack), stack)
    bed.set_config(stack, "architecture", architecture)
    new = expected.registrations(bed.stack_file(stack), stack)
    run = bed.up(stack)
    return run, expected.steps(old, new), old.keys() & new.keys()


def _counts(run: Run) -> dict[str, Counter[str]]:
    return {
        op: Counter({t: n for t, n in c.items() if not t.startswith("pulumi:providers:")})
        for op, c in run.counts().items()
    }


def test_architecture_switch_matrix_takes_exactly_the_planned_steps(bed: EngineBed, deployed) -> None:
    """Every ordered pair of architectures on `staging` (unprotected): the engine's steps per type are the
    difference of the program's registrations, nothing is replaced, and nothing both plans share is deleted."""
    stack = "staging"
    deployed(stack)
    table = []
    for frm, to in SWITCHES:
        assert bed.plan(stack).config.architecture == frm
        before = bed.live()
        run, want, shared = _switch(bed, stack, to)
        got = _counts(run)
        assert got == want, f"{frm} -> {to}: engine {got} != planned {want}"
        assert not [s for s in run.steps if s.op in REPLACING], f"{frm} -> {to} replaces"
        touched = [s for s in run.changed() if s.op == "delete" and same_identity(s.urn) in shared]
        assert touched == [], f"{frm} -> {to} deletes what both plans share"
        deleted = before - bed.live()
        assert not [u for u in deleted if u.split("::")[-2].rsplit("$", 1)[-1] in RETAINED_TYPES], (
            f"{frm} -> {to}: the cloud lost a retained cluster or topic"
        )
        assert not [
            s for s in run.changed() if s.type in SHARED_TYPES and s.op == "delete" and s.type not in RETAINED_TYPES
        ], f"{frm} -> {to} deletes a network or link"
        table.append((frm, to, got))
    assert bed.up(stack).changed() == [], "an up after the last switch changed something"
    print("\nswitch matrix (staging, unprotected): op type count")
    for frm, to, got in table:
        print(
            f"{frm} -> {to}: "
            + "; ".join(f"{op} " + ", ".join(f"{t} {n}" for t, n in sorted(c.items())) for op, c in sorted(got.items()))
        )


# --- a protected stack ------------------------------------------------------------


def test_protected_switch_is_refused_before_any_step(bed: EngineBed, deployed) -> None:
    """prod (protected, regional-clusters): a switch that would drop protected clusters and topics fails in
    preview and in up before the engine takes one step, names what it would delete and the migration."""
    stack = "prod"
    deployed(stack)
    state = bed.state(stack)
    entries = len(bed.ledger_entries())
    for to, protect in ((PER_REGION, None), (HEADER, None), (PER_REGION, "false")):
        bed.set_config(stack, "architecture", to)
        if protect:
            bed.set_config(stack, "protect", protect)
        for op in (bed.preview, bed.up):
            with pytest.raises(Failed) as refused:
                op(stack)
            assert refused.value.run.changed() == [], f"{REGIONAL} -> {to}: steps ran before the refusal"
            message = str(refused.value.error)
            assert f"switching architecture {REGIONAL} -> {to} would delete protected resources" in message
            assert "cluster gcp/europe-west1" in message and "mirror flow" in message
            assert MIGRATIONS in message
    # The engine rewrites the root stack resource on every update it starts (its `same` step), which may
    # bump its `modified` time, and may write the resources in another order; nothing else may change.
    after, before = (
        {
            r["urn"]: {k: v for k, v in r.items() if not (r["type"] == "pulumi:pulumi:Stack" and k == "modified")}
            for r in s
        }
        for s in (_without_ciphertext(bed.state(stack)), _without_ciphertext(state))
    )
    assert after.keys() == before.keys()
    assert [
        (urn, k)
        for urn in after
        for k in after[urn].keys() | before[urn].keys()
        if after[urn].get(k) != before[urn].get(k)
    ] == []
    assert len(bed.ledger_entries()) == entries
    bed.set_config(stack, "architecture", REGIONAL)
    bed.set_config(stack, "protect", "true")
    assert bed.up(stack).changed() == []


def test_active_hub_flip_on_protected_prod_repoints_and_deletes_nothing_that_holds_data(
    bed: EngineBed, deployed
) -> None:
    """prod (protected, with a standby hub): activeHub standby and back, each one `up` the guard lets through,
    taking exactly the steps the program's registrations differ by, replacing nothing, and deleting no
    cluster or topic (only the replication and the regional flows move to their new source)."""
    stack = "prod"
    deployed(stack)
    for active in ("standby", "hub"):
        old = expected.registrations(bed.stack_file(stack), stack)
        bed.set_config(stack, "activeHub", active)
        new = expected.registrations(bed.stack_file(stack), stack)
        before = bed.live()
        run = bed.up(stack)
        assert _counts(run) == expected.steps(old, new), f"activeHub -> {active}"
        assert not [s for s in run.steps if s.op in REPLACING], f"activeHub -> {active} replaces"
        assert not [s for s in run.changed() if s.op == "delete" and s.type in RETAINED_TYPES]
        deleted = before - bed.live()
        assert not [u for u in deleted if u.split("::")[-2].rsplit("$", 1)[-1] in RETAINED_TYPES]
        assert bed.plan(stack).active.key == ("aws/us-west-2/standby" if active == "standby" else "aws/us-east-1")
    assert bed.up(stack).changed() == []


def _without_ciphertext(value: Any) -> Any:
    """The state with each secret's ciphertext blanked: every checkpoint write encrypts with a fresh nonce."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return "<secret>"
        return {k: _without_ciphertext(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_ciphertext(v) for v in value]
    return value


def _consumed(plan: Plan) -> set[str]:
    """URN names of the topics the regions' consumers read, per the plan's routing contracts."""
    return {
        f"{plan.clusters[c.consume_cluster].name}-topics-{topic}"
        for c in plan.routing.values()
        for topic in c.consume.values()
    }


def _hub_topics_of_regions(plan: Plan) -> set[str]:
    """URN names of the hub's per-region topics: where a region's consumers read without a regional cluster."""
    hub = plan.clusters[plan.hub.key].name
    return {f"{hub}-topics-{name}" for name, t in plan.topics[plan.hub.key].items() if t.destination}


def _live_names(bed: EngineBed) -> set[str]:
    return {name_of(u) for u in bed.live()}


@ledger_only
def test_protected_migration_per_direction_never_stops_delivery(bed: EngineBed) -> None:
    """docs/engine.md "Switching a protected stack", every direction, on a protected copy of dev.

    At every point, the topic each region consumes from (the old contract's until it moves, the new one's
    after) exists in the cloud: nothing retained is ever deleted, the old topics stay for draining, and
    before a switch away from regional-clusters the hub topics the consumers move to already exist.
    """
    stack = "migrate"
    bed.add_stack_file(stack, "dev", architecture=PER_REGION, protect=True)
    bed.up(stack)
    for frm, to in SWITCHES:
        old_plan = bed.plan(stack)
        assert old_plan.config.architecture == frm
        bed.set_config(stack, "architecture", to)
        new_plan = bed.plan(stack)
        if (frm, to) == (PER_REGION, REGIONAL):
            # Drops nothing: one plain `pulumi up`. The hub's SCRAM association
            # gains the new mirror flows' own logins, in place.
            run = bed.up(stack)
            assert not [
                s for s in run.changed() if s.op != "create" and not (s.op == "update" and s.type == SCRAM_ASSOCIATION)
            ]
        else:
            with pytest.raises(Failed) as refused:
                bed.up(stack)
            assert refused.value.run.changed() == []
            if frm == REGIONAL:
                # Step 1: consumers move to their topics on the hub, which exist already.
                assert _hub_topics_of_regions(old_plan) <= _live_names(bed)
            # Step 2: protect off, architecture unchanged: only the state's flags change.
            bed.set_config(stack, "architecture", frm)
            bed.set_config(stack, "protect", "false")
            entries = len(bed.ledger_entries())
            assert bed.up(stack).changed() == []
            assert len(bed.ledger_entries()) == entries
            # Step 3: the switch.
            bed.set_config(stack, "architecture", to)
            switch = bed.up(stack)
            assert not [s for s in switch.steps if s.op in REPLACING]
            # Step 5: protect on again.
            bed.set_config(stack, "protect", "true")
            entries = len(bed.ledger_entries())
            assert bed.up(stack).changed() == []
            assert len(bed.ledger_entries()) == entries
        live = _live_names(bed)
        assert _consumed(old_plan) <= live, f"{frm} -> {to}: an old topic is gone before its consumers drained it"
        assert _consumed(new_plan) <= live, f"{frm} -> {to}: a region has nothing to consume"
        if frm == REGIONAL:
            assert _hub_topics_of_regions(old_plan) <= live
        assert not [e for e in bed.ledger_entries() if e["op"] == "delete" and e["type"] in RETAINED_TYPES]


# --- destroy ----------------------------------------------------------------------


@ledger_only
def test_destroy_deletes_everything_but_retained_clusters_and_topics(bed: EngineBed, deployed) -> None:
    """dev (unprotected): `pulumi destroy` sends a Delete for every resource but the retained ones."""
    stack = "dev"
    deployed(stack)
    state = [r for r in bed.state(stack) if r.get("custom") and not r["type"].startswith("pulumi:providers:")]
    before = len(bed.ledger_entries())
    bed.destroy(stack)
    deletes = [e for e in bed.ledger_entries()[before:] if e["op"] == "delete"]
    assert all(e["op"] == "delete" for e in bed.ledger_entries()[before:])
    reached = {e["urn"] for e in deletes}
    retained = {r["urn"] for r in state if r.get("retainOnDelete")}
    assert retained and {r["type"] for r in state if r.get("retainOnDelete")} <= RETAINED_TYPES
    assert not reached & retained, f"Delete reached retained resources: {sorted(reached & retained)[:5]}"
    assert reached == {r["urn"] for r in state} - retained
    assert len(deletes) == len(reached)
    assert bed.state(stack) == []
