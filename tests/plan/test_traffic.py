"""Tier 1: the traffic and cost model, and the commands built on the plan."""

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from infra import cli, diagram, stackfile, traffic
from infra.architectures import build_plan
from infra.kinds import Architecture, ClusterRole, MirrorMechanism
from infra.validation import ConfigError

LOAD = traffic.Traffic(messages_per_second=100, payload_bytes=1000, record_overhead_bytes=0)


def plan_as(stack, arch):
    return build_plan(dataclasses.replace(stackfile.load(stack), architecture=arch))


@pytest.mark.parametrize("arch", list(Architecture))
def test_every_byte_produced_is_delivered_once(arch):
    plan = plan_as("prod", arch)
    f = traffic.flows(plan, LOAD)
    headers = sum(
        len(k) + len(v)
        for k, v in next(iter(next(iter(plan.routing.values())).produce.values()))[plan.config.hub.key].headers.items()
    )
    produced = LOAD.messages_per_second * (LOAD.payload_bytes + headers)
    assert sum(f.delivered_by_region.values()) == pytest.approx(produced, rel=0.01)
    share = {r: v / produced for r, v in f.delivered_by_region.items()}
    assert share == pytest.approx({r: 1 / len(plan.config.regions) for r in plan.config.regions}, rel=0.01)


def test_header_routing_makes_every_region_fetch_everything():
    f = traffic.flows(plan_as("prod", "header-routing"), LOAD)
    n = len(f.fetched_by_region)
    for region, fetched in f.fetched_by_region.items():
        # Router headers name the destination, so records differ by a few bytes.
        assert fetched == pytest.approx(n * f.delivered_by_region[region], rel=0.01)


@pytest.mark.parametrize("arch", ["topic-per-region", "regional-clusters"])
def test_per_region_topics_fetch_only_what_is_theirs(arch):
    f = traffic.flows(plan_as("prod", arch), LOAD)
    assert f.fetched_by_region == pytest.approx(f.delivered_by_region)


def test_regional_clusters_add_replication_in_the_local_clusters():
    per_region = traffic.flows(plan_as("prod", "topic-per-region"), LOAD)
    regional = traffic.flows(plan_as("prod", "regional-clusters"), LOAD)
    # Same bytes cross regions and clouds (each message crosses once either
    # way); the local copies add RF-1 replicas for the 3 of 4 non-hub regions.
    for kind in (traffic.CROSS_REGION, traffic.CROSS_CLOUD):
        assert regional.by_class[kind] == pytest.approx(per_region.by_class[kind])
    produced = LOAD.messages_per_second * LOAD.payload_bytes
    assert regional.by_class[traffic.REPLICATION] - per_region.by_class[traffic.REPLICATION] == pytest.approx(
        produced * 0.75 * 2
    )


@pytest.mark.parametrize("arch", list(Architecture))
def test_each_mirror_flow_copies_exactly_what_its_target_region_receives(arch):
    plan = plan_as("prod", arch)
    f = traffic.flows(plan, LOAD)
    assert set(f.mirrored_by_flow) == set(plan.mirrors)
    for key, flow in plan.mirrors.items():
        if plan.clusters[flow.target].role == ClusterRole.STANDBY:
            # The standby hub receives a copy of everything.
            assert f.mirrored_by_flow[key] == pytest.approx(sum(f.delivered_by_region.values()))
        else:
            assert f.mirrored_by_flow[key] == pytest.approx(f.delivered_by_region[flow.target])


def test_single_cloud_stack_sends_nothing_across_clouds():
    cfg = stackfile.load("staging")
    aws_only = dataclasses.replace(cfg, regions={k: r for k, r in cfg.regions.items() if r.cloud == "aws"})
    f = traffic.flows(build_plan(aws_only), LOAD)
    assert f.by_class[traffic.CROSS_CLOUD] == 0 and f.by_class[traffic.CROSS_REGION] > 0


def test_costs_follow_prices_and_clusters(tmp_path):
    plan = plan_as("prod", "regional-clusters")
    f = traffic.flows(plan, LOAD)
    base = traffic.monthly_cost(plan, f, traffic.load_prices(None))
    doubled = {k: 2 * v for k, v in traffic.DEFAULT_PRICES.items() if k.endswith(("RegionPerGb", "CloudPerGb"))}
    (tmp_path / "p.yaml").write_text("\n".join(f"{k}: {v}" for k, v in doubled.items()))
    priced = traffic.monthly_cost(plan, f, traffic.load_prices(tmp_path / "p.yaml"))
    assert base.transfer > 0
    assert priced.transfer == pytest.approx(2 * base.transfer)
    assert priced.clusters == base.clusters
    hub_only = plan_as("prod", "topic-per-region")
    assert (
        traffic.monthly_cost(hub_only, traffic.flows(hub_only, LOAD), traffic.DEFAULT_PRICES).clusters < base.clusters
    )


def test_unknown_or_bad_price_is_a_clear_error(tmp_path):
    (tmp_path / "p.yaml").write_text("aws.crossCloudPerGB: 0.1\ngcp.vcpuHour: cheap\n")
    with pytest.raises(ConfigError) as e:
        traffic.load_prices(tmp_path / "p.yaml")
    assert "aws.crossCloudPerGB" in str(e.value) and "must be a number" in str(e.value)


@pytest.mark.parametrize("arch", list(Architecture))
def test_diagram_draws_every_region_flow_and_link(arch):
    plan = plan_as("prod", arch)
    root = ET.fromstring(diagram.svg(plan))
    ns = "{http://www.w3.org/2000/svg}"
    texts = " ".join(t.text or "" for t in root.iter(f"{ns}text"))
    for region in plan.config.regions.values():
        assert region.name in texts
    paths = list(root.iter(f"{ns}path"))
    assert sum(p.get("marker-end") == "url(#arrow)" for p in paths) == len(plan.mirrors)
    assert sum(p.get("stroke-dasharray") is not None for p in paths) == len(plan.links)


def test_compare_command_prints_the_three_architectures(capsys):
    assert cli.main(["compare", "prod", "--rate", "500"]) == 0
    out = capsys.readouterr().out
    assert "regional-clusters *" in out
    for arch in list(Architecture):
        assert arch in out


def test_plan_command_and_its_errors(capsys, tmp_path):
    assert cli.main(["plan", "staging"]) == 0
    out = capsys.readouterr().out
    assert "CREATE_ACCOUNT_GCP_EUROPE_WEST1" in out and "Mirror flows" in out
    assert cli.main(["plan", "nope"]) == 2
    assert "stacks here" in capsys.readouterr().err


def test_diagram_command_writes_the_file(tmp_path, capsys):
    out = tmp_path / "d.svg"
    assert cli.main(["diagram", "dev", "--architecture", "regional-clusters", "-o", str(out)]) == 0
    assert "regional-clusters" in out.read_text()


def test_an_msk_replicator_flow_pays_per_hour_and_per_gb_replicated_instead_of_a_mirror_hour():
    """MSK Replicator is billed per Replicator-hour and per GB replicated (Amazon MSK pricing, "MSK Replicator")."""
    plan = plan_as("prod", "topic-per-region")
    (replicated,) = [m for m in plan.mirrors.values() if m.mechanism == MirrorMechanism.MSK_REPLICATOR]
    f = traffic.flows(plan, LOAD)
    gb = f.mirrored_by_flow[replicated.key] * traffic.SECONDS_PER_MONTH / traffic.GB
    assert gb > 0
    free = {**traffic.DEFAULT_PRICES, "aws.replicatorHour": 0.0, "aws.replicatorPerGb": 0.0}
    base = traffic.monthly_cost(plan, f, free).mirrors
    assert traffic.monthly_cost(plan, f, {**free, "aws.replicatorPerGb": 0.5}).mirrors == pytest.approx(base + 0.5 * gb)
    hourly = traffic.monthly_cost(plan, f, {**free, "aws.replicatorHour": 1.0}).mirrors
    assert hourly == pytest.approx(base + traffic.HOURS_PER_MONTH)
    # The flow pays no MirrorMaker 2 hour: only the other flows do.
    others = [m for m in plan.mirrors.values() if m is not replicated]
    assert base == pytest.approx(
        sum(traffic.HOURS_PER_MONTH * free[f"{plan.clusters[m.target].region.cloud}.mirrorHour"] for m in others)
    )
