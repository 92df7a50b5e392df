"""The pack itself: its wrappers hand the engine's arguments to the rules and report back."""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import yaml
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from policy import rules
from tests.policy.policy_support import of_type, stack

ROOT = Path(__file__).resolve().parent.parent.parent
PACK = runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="policy_pack")


def options(protect: bool) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def engine_args(r: rules.Resource, config=None) -> ResourceValidationArgs:
    provider = PolicyProviderResource("pulumi:providers:aws", {"region": r.region}, r.provider_urn, "p")
    return ResourceValidationArgs(r.type, r.props, r.urn, r.name, options(r.protect), provider, config)


def run(policy, args) -> list[str]:
    found: list[str] = []
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def by_name():
    return {p.name: p for p in PACK["policies"]()}


def test_the_pack_holds_the_policies_of_the_docs_table():
    table = (ROOT / "docs" / "policy-pack.md").read_text()
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)
    assert documented == list(by_name())


def test_resource_policies_report_what_the_rule_finds_with_the_engines_arguments():
    plan, resources = stack("prod")
    cluster = next(r for r in of_type(resources, rules.MSK_CLUSTER) if r.props["clusterName"] == plan.hub.name)
    west = rules.Resource(cluster.type, cluster.props, cluster.name, cluster.urn, True, "us-west-1")
    assert run(by_name()["aws-zones"], engine_args(west)) == rules.zones(west) != []
    assert run(by_name()["aws-zones"], engine_args(cluster)) == []


def test_protect_reads_its_config_and_the_resources_protect_option():
    topic = of_type(stack("dev")[1], rules.MSK_TOPIC)[0]
    policy = by_name()["protect-data"]
    assert isinstance(policy, ResourceValidationPolicy)
    assert run(policy, engine_args(topic)) == rules.protected(topic) != []
    unprotected = json.loads((ROOT / "policy" / "unprotected.json").read_text())
    assert run(policy, engine_args(topic, unprotected["protect-data"])) == []


def test_stack_policies_see_dependencies_and_providers_as_the_engine_lists_them():
    _, resources = stack("prod")
    urns = {r.urn: r for r in resources}
    engine: dict[str, PolicyResource] = {}
    for r in resources:
        provider = urns.get(r.provider_urn)
        engine[r.urn] = PolicyResource(
            r.type,
            r.props,
            r.urn,
            r.name,
            options(r.protect),
            PolicyProviderResource(provider.type, provider.props, provider.urn, provider.name) if provider else None,
            None,
            [],
            {},
        )
    for r in resources:
        engine[r.urn].dependencies = [engine[d] for d in r.dependencies if d in engine]
    args = StackValidationArgs(list(engine.values()))
    assert PACK["stack_of"](args) == list(resources)
    found: list[tuple[str, str]] = []
    by_name()["replicator-prerequisites"].validate(args, lambda message, urn=None: found.append((urn, message)))
    assert found == rules.replicator_prerequisites(resources) == []


def test_the_pack_declares_its_runtime_and_its_own_requirements():
    spec = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python" and spec["version"]
    pins = (ROOT / "policy" / "requirements.txt").read_text().split()
    assert "pulumi-policy==1.21.0" in pins
    assert "pulumi-policy==1.21.0" in (ROOT / "requirements-dev.txt").read_text().split()
