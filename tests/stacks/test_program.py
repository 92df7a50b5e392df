"""The whole Pulumi program (__main__.py) under mocks, per architecture and stack file."""

from __future__ import annotations

import json
import re

import pytest

from infra import geo, stackfile
from infra.components.architecture import COMPONENTS
from infra.validation import ConfigError
from tests.support.program import of_type, plan_of, run_main
from tests.support.stacks import AWS_REGIONS, EVENTS, ROOT, raw_config, stack_file_config

PROVIDER = "pulumi:providers:aws"


@pytest.fixture(scope="module", params=list(COMPONENTS))
def realized(request):
    config = raw_config(request.param)
    registrations, outputs, refused = run_main(config)
    assert refused is None
    return plan_of(config), registrations, outputs


def test_one_msk_cluster_per_planned_cluster_in_its_region(realized):
    plan, regs, _ = realized
    regions = {r.urn: r.inputs["region"] for r in of_type(regs, PROVIDER)}
    clusters = {c.inputs["clusterName"]: regions[c.provider] for c in of_type(regs, "aws:msk/cluster:Cluster")}
    assert clusters == {c.name: c.region.name for c in plan.clusters.values()}


def test_one_topic_per_planned_topic_on_its_cluster(realized):
    plan, regs, _ = realized
    # The mocks' cluster ARNs are arn:...:cluster/<cluster name>/<uuid>.
    topics = [(t.inputs["clusterArn"].split("/")[1], t.inputs["name"]) for t in of_type(regs, "aws:msk/topic:Topic")]
    planned = [(plan.clusters[key].name, name) for key, ts in plan.topics.items() for name in ts]
    assert sorted(topics) == sorted(planned)


def test_one_replicator_per_planned_aws_to_aws_flow_with_its_topics(realized):
    plan, regs, _ = realized
    flows = [
        f
        for f in plan.mirrors.values()
        if plan.clusters[f.source].region.cloud == plan.clusters[f.target].region.cloud == geo.AWS
    ]
    replicators = of_type(regs, "aws:msk/replicator:Replicator")
    assert len(replicators) == len(flows) == len(plan.mirrors)
    got = {
        r.inputs["replicationInfoList"]["targetKafkaClusterArn"].split("/")[1]: tuple(
            r.inputs["replicationInfoList"]["topicReplications"][0]["topicsToReplicates"]
        )
        for r in replicators
    }
    assert got == {plan.clusters[f.target].name: f.topics for f in flows}


def test_one_network_per_region_and_one_peering_per_link(realized):
    plan, regs, _ = realized
    assert len(of_type(regs, "aws:ec2/vpc:Vpc")) == len(plan.config.regions)
    assert sorted(v.inputs["cidrBlock"] for v in of_type(regs, "aws:ec2/vpc:Vpc")) == sorted(
        str(r.cidr) for r in plan.config.regions.values()
    )
    assert len(of_type(regs, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection")) == len(plan.links)
    assert len(of_type(regs, "aws:ec2/route:Route")) == 2 * len(plan.links)


def test_every_resource_descends_from_the_architecture_component(realized):
    plan, regs, _ = realized
    by_urn = {r.urn: r for r in regs}
    (root,) = [r for r in regs if r.type.startswith("multicloud-kafka:architecture:")]
    assert root.type == COMPONENTS[plan.architecture].type_token()
    for r in regs:
        if r is root:
            continue
        node = r
        while node.parent in by_urn and node is not root:
            node = by_urn[node.parent]
        assert node is root, f"{r.type} {r.name} is not under the architecture component"
        assert r.name.startswith(plan.config.name_prefix)


def test_every_aws_resource_uses_an_explicit_regional_provider(realized):
    _, regs, _ = realized
    ours = {r.urn for r in of_type(regs, PROVIDER)}
    for r in regs:
        if r.custom and r.type.startswith("aws:"):
            assert r.provider in ours, f"{r.type} {r.name} would use the default provider"


def test_clusters_and_topics_are_protected_and_retained_by_default(realized):
    _, regs, _ = realized
    for r in of_type(regs, "aws:msk/cluster:Cluster") + of_type(regs, "aws:msk/topic:Topic"):
        assert (r.protect, r.retain_on_delete) == (True, True), r.name


def test_outputs_give_each_region_its_bootstrap_and_routing_contract(realized):
    plan, _, outputs = realized
    assert outputs["hubBootstrap"] == f"b-1.{plan.hub.name}.kafka.{plan.hub.region.name}.amazonaws.com:9098"
    assert set(outputs["regions"]) == set(plan.config.regions)
    for key, contract in plan.routing.items():
        region = outputs["regions"][key]
        assert json.loads(region["routing"]) == contract.to_dict()
        assert set(region["bootstrap"]) == contract.clusters()
        for cluster_key, address in region["bootstrap"].items():
            assert address.startswith(f"b-1.{plan.clusters[cluster_key].name}.") and address.endswith(":9098")


def test_an_unprotected_stack_still_retains_clusters_and_topics_on_delete():
    regs, _, _ = run_main(raw_config("regional-clusters", protect="false"))
    for r in of_type(regs, "aws:msk/cluster:Cluster") + of_type(regs, "aws:msk/topic:Topic"):
        assert (r.protect, r.retain_on_delete) == (False, True), r.name


def test_switching_architecture_keeps_the_names_of_what_both_plans_share():
    before, _, _ = run_main(raw_config("topic-per-region"))
    after, _, _ = run_main(raw_config("regional-clusters"))
    (old_root,) = [r for r in before if r.type.startswith("multicloud-kafka:architecture:")]
    (new_root,) = [r for r in after if r.type.startswith("multicloud-kafka:architecture:")]
    # The new component answers to the old one's type, so children keep their URNs.
    assert old_root.type in new_root.alias_types and old_root.name == new_root.name
    shared = {(r.type, r.name) for r in before} - {(old_root.type, old_root.name)}
    assert shared <= {(r.type, r.name) for r in after}


def test_serverless_stacks_are_refused_before_anything_is_registered():
    """Topic Operations (Amazon MSK Developer Guide): the topic APIs behind aws.msk.Topic are not
    available for MSK Serverless, so a serverless stack could create no topic."""
    with pytest.raises(ConfigError, match=r"msk\.serverless = True: MSK Serverless has no topic API"):
        plan_of(raw_config("header-routing", msk={"serverless": True}))


@pytest.mark.parametrize("stack", stackfile.stacks())
def test_every_stack_file_runs(stack):
    config = stack_file_config(stack)
    plan = plan_of(config, stack)
    _regs, outputs, refused = run_main(config, stack)
    assert refused is None
    assert set(outputs["regions"]) == set(plan.config.regions)


def test_the_documented_outputs_example_is_what_the_program_exports():
    page = (ROOT / "docs" / "aws.md").read_text()
    section = page[page.index("\n## Outputs\n") :]
    block = section[section.index("```json") + len("```json") : section.index("```", section.index("```json") + 7)]
    shown = json.loads(block.replace(', ...}"', '}"'))
    regions = {"aws/us-east-1": {"cidr": "10.10.0.0/16"}, "aws/us-west-2": {"cidr": "10.20.0.0/16"}}
    config = raw_config("regional-clusters", regions, events={"create_account": {}})
    _, outputs, refused = run_main(config, "dev")
    assert refused is None
    west = outputs["regions"]["aws/us-west-2"]
    assert west["bootstrap"] == shown["bootstrap"]
    # The page shows the head of the contract; the program's text starts the same way.
    assert west["routing"].startswith(shown["routing"][:-1])


def test_the_documented_outputs_are_the_programs_outputs():
    """docs/aws.md "Outputs" lists every stack output; `monitoring` has the shape it gives."""
    page = (ROOT / "docs" / "aws.md").read_text()
    section = page[page.index("\n## Outputs\n") :]
    documented = {row.split("`")[1] for row in section.splitlines() if row.startswith("| `")}
    exported = set(re.findall(r'pulumi\.export\("(\w+)"', (ROOT / "infra" / "components" / "program.py").read_text()))
    assert documented == exported
    _, outputs, refused = run_main(raw_config("regional-clusters", alerts={"emails": ["oncall@example.com"]}))
    assert refused is None
    aws = outputs["monitoring"]["aws"]
    assert set(aws) == {"dashboard", "notifications"} and set(aws["dashboard"]) == {"name", "region"}
    assert all(arn.startswith("arn:aws:") for arn in aws["notifications"].values())


def test_the_program_reads_the_config_the_pulumi_cli_hands_it_in_the_environment(monkeypatch):
    # `pulumi up` passes the stack's config as JSON in PULUMI_CONFIG, objects as JSON text.
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(raw_config("topic-per-region", protect="false")))
    regs, outputs, refused = run_main({})
    assert refused is None
    assert set(outputs["regions"]) == set(AWS_REGIONS)
    topics = of_type(regs, "aws:msk/topic:Topic")
    assert len(topics) == len(AWS_REGIONS) * len(EVENTS)
    assert all(t.protect is False for t in topics)
