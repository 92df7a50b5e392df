"""The api key and the API plan: pure, no Pulumi."""

from __future__ import annotations

import copy

import pytest

from infra import geo
from infra.architectures import build_plan
from infra.config import validate
from infra.stackfile import decode
from infra.validation import ConfigError, k
from tests.support.stacks import AWS_PAIR, CLOUD_MAP, MIXED_REGIONS, ROOT, api_key, api_raw, aws_backend, gcp_backend

MIXED_BACKENDS = {
    "aws/us-east-1": aws_backend("us-east-1"),
    "gcp/europe-west1": gcp_backend("europe-west1", "10.130.0.0/23"),
    "gcp/asia-southeast1": "skip",
}


def cfg_of(regions: dict, api_value: dict | None):
    return validate(decode(api_raw(regions, api_value)), "test")


def problems_of(regions: dict, api_value: dict) -> list:
    """Every problem, from validation at the edge or from planning against the regions."""
    with pytest.raises(ConfigError) as e:
        build_plan(cfg_of(regions, api_value))
    return e.value.problems


def test_no_api_key_means_no_api():
    assert build_plan(cfg_of(AWS_PAIR, None)).api is None


def test_plan_names_every_served_region_and_the_global_name():
    plan = build_plan(cfg_of(MIXED_REGIONS, api_key(MIXED_BACKENDS))).api
    assert plan.hostname == "api.example.com"
    assert set(plan.endpoints) == {"aws/us-east-1", "gcp/europe-west1"}
    assert plan.skipped == ("gcp/asia-southeast1",)
    assert plan.endpoints["aws/us-east-1"].hostname == "api-aws-us-east-1.example.com"
    assert plan.endpoints["gcp/europe-west1"].hostname == "api-gcp-europe-west1.example.com"
    assert plan.endpoints["aws/us-east-1"].latency_region == "us-east-1"
    assert plan.endpoints["gcp/europe-west1"].latency_region == "eu-west-3"
    assert plan.health_path == "/healthz"
    assert plan.to_dict()["regions"]["gcp/europe-west1"] == {
        "url": "https://api-gcp-europe-west1.example.com/",
        "hostname": "api-gcp-europe-west1.example.com",
        "globalUrl": "https://api.example.com/",
        "latencyRegion": "eu-west-3",
    }


def test_routing_output_gains_api_for_served_regions_only():
    plan = build_plan(cfg_of(MIXED_REGIONS, api_key(MIXED_BACKENDS))).api
    regions = {key: {"routing": {"consume": {}}} for key in MIXED_REGIONS}
    out = plan.with_endpoints(regions)
    assert out["aws/us-east-1"]["api"]["url"] == "https://api-aws-us-east-1.example.com/"
    assert out["aws/us-east-1"]["routing"] == {"consume": {}}
    assert "api" not in out["gcp/asia-southeast1"]


def test_every_gcp_region_has_a_latency_region_in_aws():
    assert set(geo.GCP_LATENCY_REGION) == geo.GCP_REGIONS
    assert set(geo.GCP_LATENCY_REGION.values()) <= geo.AWS_REGIONS


def test_a_planned_region_without_backend_is_refused_naming_the_fix():
    backends = {key: v for key, v in MIXED_BACKENDS.items() if key != "gcp/asia-southeast1"}
    [p] = problems_of(MIXED_REGIONS, api_key(backends))
    assert p.key == k("api.backends")
    assert "gcp/asia-southeast1" in p.fix and "skip" in p.fix


def test_a_backend_for_an_unplanned_region_is_refused():
    backends = {**MIXED_BACKENDS, "aws/us-west-2": aws_backend("us-west-2")}
    [p] = problems_of(MIXED_REGIONS, api_key(backends))
    assert p.key == k("api.backends.aws/us-west-2")
    assert "not a region of" in p.fix


def test_skipping_every_region_is_refused():
    [p] = problems_of(AWS_PAIR, api_key(dict.fromkeys(AWS_PAIR, "skip")))
    assert "skips every region" in p.fix


def bad(api_value: dict, regions: dict = AWS_PAIR) -> dict[str, str]:
    """key -> fix of every problem the validation at the edge reports."""
    with pytest.raises(ConfigError) as e:
        cfg_of(regions, api_value)
    return {p.key: p.fix for p in e.value.problems}


AWS_OK = {key: aws_backend(key.split("/")[1]) for key in AWS_PAIR}


@pytest.mark.parametrize(
    "zone, fix",
    [
        ("Example.com", "lower case: example.com"),
        ("example.com.", "drop the trailing dot"),
        ("localhost", "not a DNS zone name"),
        ("exa_mple.com", "not a DNS zone name"),
        (None, "is required"),
    ],
)
def test_zone_syntax(zone, fix):
    value = api_key(AWS_OK)
    value["zone"] = zone
    assert fix in bad(value)[k("api.zone")]


@pytest.mark.parametrize(
    "name, value, fix",
    [
        ("hostname", "-api", "one DNS label"),
        ("hostname", "api.v2", "one DNS label"),
        ("healthPath", "healthz", "starting with '/'"),
        ("zoneId", "example", "hosted zone ID"),
        ("colour", "blue", "not an api setting"),
    ],
)
def test_top_level_settings(name, value, fix):
    assert fix in bad(api_key(AWS_OK, **{name: value}))[k(f"api.{name}")]


def test_hostname_too_long_for_a_region_name_is_refused():
    regions = {"gcp/northamerica-northeast1": {"cidr": "10.50.0.0/16"}, **AWS_PAIR}
    backends = {**AWS_OK, "gcp/northamerica-northeast1": gcp_backend("northamerica-northeast1", "10.130.0.0/23")}
    [p] = problems_of(regions, api_key(backends, hostname="a" * 40))
    assert p.key == k("api.hostname") and "longer than DNS allows" in p.fix


def test_aws_backend_in_another_region_is_refused():
    backends = {**AWS_OK, "aws/eu-west-1": aws_backend("us-east-1")}
    fix = bad(api_key(backends))[k("api.backends.aws/eu-west-1.listenerArn")]
    assert "must be in eu-west-1" in fix


def test_aws_backend_needs_exactly_one_target_and_a_port():
    backends = {
        "aws/us-east-1": {**aws_backend("us-east-1"), "cloudMapServiceArn": CLOUD_MAP.format(region="us-east-1")},
        "aws/eu-west-1": {"cloudMapServiceArn": CLOUD_MAP.format(region="eu-west-1")},
    }
    problems = bad(api_key(backends))
    assert "exactly one of listenerArn" in problems[k("api.backends.aws/us-east-1")]
    assert "is required" in problems[k("api.backends.aws/eu-west-1.port")]


def test_gcp_settings_on_an_aws_region_are_refused():
    backends = {**AWS_OK, "aws/eu-west-1": {**aws_backend("eu-west-1"), "proxyCidr": "10.130.0.0/23"}}
    assert "not a backend setting" in bad(api_key(backends))[k("api.backends.aws/eu-west-1.proxyCidr")]


def test_gcp_backend_checks():
    backends = copy.deepcopy(MIXED_BACKENDS)
    backends["gcp/europe-west1"].update(
        networkEndpointGroups=["projects/acme-streaming/zones/us-east1-b/networkEndpointGroups/orders"],
        proxyCidr="8.8.8.0/24",
        protocol="GRPC",
        latencyRegion="europe-west1",
    )
    problems = bad(api_key(backends), MIXED_REGIONS)
    base = "api.backends.gcp/europe-west1"
    assert "use a NEG in a zone of europe-west1" in problems[k(f"{base}.networkEndpointGroups")]
    assert "private (RFC 1918)" in problems[k(f"{base}.proxyCidr")]
    assert "HTTPS, HTTP2, HTTP" in problems[k(f"{base}.protocol")]
    assert "must be an AWS region" in problems[k(f"{base}.latencyRegion")]


def test_proxy_cidr_must_stay_out_of_every_region():
    backends = copy.deepcopy(MIXED_BACKENDS)
    backends["gcp/europe-west1"]["proxyCidr"] = "10.40.0.0/23"
    [p] = problems_of(MIXED_REGIONS, api_key(backends))
    assert p.key == k("api.backends.gcp/europe-west1.proxyCidr")
    assert "gcp/asia-southeast1" in p.fix


def test_proxy_cidrs_of_two_regions_must_not_overlap():
    backends = copy.deepcopy(MIXED_BACKENDS)
    backends["gcp/asia-southeast1"] = gcp_backend("asia-southeast1", "10.130.0.0/22")
    [p] = problems_of(MIXED_REGIONS, api_key(backends))
    assert "proxyCidr of gcp/asia-southeast1" in p.fix


def test_neg_in_another_project_is_refused():
    backends = copy.deepcopy(MIXED_BACKENDS)
    backends["gcp/europe-west1"]["networkEndpointGroups"] = [
        "projects/other-project/zones/europe-west1-b/networkEndpointGroups/orders"
    ]
    [p] = problems_of(MIXED_REGIONS, api_key(backends))
    assert "stack's VPC in acme-streaming" in p.fix


def test_two_regions_measured_from_one_aws_region_are_refused():
    regions = {"aws/us-east-1": {"cidr": "10.10.0.0/16"}, "gcp/us-east4": {"cidr": "10.20.0.0/16"}}
    backends = {"aws/us-east-1": aws_backend("us-east-1"), "gcp/us-east4": gcp_backend("us-east4", "10.130.0.0/23")}
    [p] = problems_of(regions, api_key(backends))
    assert p.key == k("api.backends.gcp/us-east4") and "latencyRegion" in p.fix
    backends["gcp/us-east4"]["latencyRegion"] = "us-east-2"
    plan = build_plan(cfg_of(regions, api_key(backends))).api
    assert plan.endpoints["gcp/us-east4"].latency_region == "us-east-2"


def test_problems_are_reported_together_with_the_rest_of_the_config():
    value = api_raw(AWS_PAIR, api_key(AWS_OK, zone="EXAMPLE.com"))
    value["multicloud-kafka:architecture"] = "mesh"
    with pytest.raises(ConfigError) as e:
        validate(decode(value), "test")
    assert {p.key for p in e.value.problems} == {k("architecture"), k("api.zone")}


def test_the_documented_example_plans_as_documented():
    import re

    import yaml

    page = (ROOT / "docs" / "regional-api.md").read_text()
    section = page.split("\n## Config\n", 1)[1].split("\n## ", 1)[0]
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    plan = build_plan(cfg_of(MIXED_REGIONS, example["multicloud-kafka:api"])).api
    assert plan.hostname == "api.example.com"
    assert {k: e.latency_region for k, e in plan.endpoints.items()} == {
        "aws/us-east-1": "us-east-1",
        "gcp/europe-west1": "eu-west-3",
    }
    assert plan.skipped == ("gcp/asia-southeast1",)
