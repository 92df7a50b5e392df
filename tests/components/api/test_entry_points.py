"""The regional API under mocks: entry points per region and cloud, DNS, TLS, exposure."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pytest

from infra.components.api.component import RegionalApi
from infra.components.architecture import component_for
from infra.components.aws.network import AwsNetwork, AwsNetworkArgs
from infra.geo import Region
from tests.support.mocks import run_registry
from tests.support.outputs import API_GATEWAY_ZONE_ID, MOCK_ZONE_ID
from tests.support.stacks import AWS_PAIR, CLOUD_MAP, MIXED_REGIONS, api_key, api_plans, aws_backend, gcp_backend

R53 = "aws:route53/record:Record"
HEALTH = "aws:route53/healthCheck:HealthCheck"
AWS_BACKENDS = {
    "aws/us-east-1": aws_backend("us-east-1", tlsServerName="orders.internal.example.com"),
    "aws/eu-west-1": {"cloudMapServiceArn": CLOUD_MAP.format(region="eu-west-1"), "port": 8080},
}


def aws_program(api_value: dict, architecture: str = "topic-per-region"):
    plan, _ = api_plans(AWS_PAIR, api_value, architecture)

    def program():
        # The architecture component realizes the plan's API as its child.
        api = component_for(plan)(plan.config.name_prefix, plan).api
        assert api is not None
        return api.outputs

    return program


@pytest.fixture(scope="module")
def aws_run():
    return run_registry(aws_program(api_key(AWS_BACKENDS)))


def mine(reg, r) -> bool:
    return any(a.type == RegionalApi.TYPE for a in reg.ancestors(r))


def test_one_aws_entry_point_per_region_in_its_region(aws_run):
    reg, _, _ = aws_run
    points = reg.of_type("multicloud-kafka:api:AwsEntryPoint")
    assert sorted(p.name for p in points) == ["mck-test-aws-eu-west-1-api", "mck-test-aws-us-east-1-api"]
    for type_ in (
        "aws:apigatewayv2/api:Api",
        "aws:apigatewayv2/vpcLink:VpcLink",
        "aws:acm/certificate:Certificate",
        "aws:apigatewayv2/domainName:DomainName",
        "aws:apigatewayv2/integration:Integration",
    ):
        found = reg.of_type(type_)
        assert found, type_
        for r in found:
            region = r.name.split("mck-test-aws-")[1].split("-api")[0]
            assert reg.provider_region(r) == region, r.name
            point = next(a for a in reg.ancestors(r) if a.type == "multicloud-kafka:api:AwsEntryPoint")
            assert point.name == f"mck-test-aws-{region}-api"


def test_vpc_link_sits_in_the_regions_private_subnets_and_reaches_the_backend_only(aws_run):
    reg, _, _ = aws_run
    for key, region in (("aws/us-east-1", "us-east-1"), ("aws/eu-west-1", "eu-west-1")):
        link = reg.named(f"mck-test-aws-{region}-api", "aws:apigatewayv2/vpcLink:VpcLink")
        assert link.inputs["subnetIds"] == [f"mck-test-aws-{region}-az{i}-id" for i in (1, 2, 3)]
        sg = reg.named(f"mck-test-aws-{region}-api-vpc-link", "aws:ec2/securityGroup:SecurityGroup")
        assert sg.inputs["vpcId"] == f"mck-test-aws-{region}-vpc-id"
        assert link.inputs["securityGroupIds"] == [f"mck-test-aws-{region}-api-vpc-link-id"]
        assert not sg.inputs.get("ingress")
        [egress] = sg.inputs["egress"]
        port = AWS_BACKENDS[key]["port"]
        assert (egress["fromPort"], egress["toPort"], egress["protocol"]) == (port, port, "tcp")
        assert egress["cidrBlocks"] == [AWS_PAIR[key]["cidr"]]


def test_integration_is_private_to_the_named_backend(aws_run):
    reg, _, _ = aws_run
    east = reg.named("mck-test-aws-us-east-1-api", "aws:apigatewayv2/integration:Integration")
    assert east.inputs["connectionType"] == "VPC_LINK"
    assert east.inputs["connectionId"] == "mck-test-aws-us-east-1-api-id"
    assert east.inputs["integrationUri"] == AWS_BACKENDS["aws/us-east-1"]["listenerArn"]
    assert east.inputs["tlsConfig"] == {"serverNameToVerify": "orders.internal.example.com"}
    west = reg.named("mck-test-aws-eu-west-1-api", "aws:apigatewayv2/integration:Integration")
    assert west.inputs["integrationUri"] == AWS_BACKENDS["aws/eu-west-1"]["cloudMapServiceArn"]
    route = reg.named("mck-test-aws-eu-west-1-api", "aws:apigatewayv2/route:Route")
    assert route.inputs["target"] == "integrations/mck-test-aws-eu-west-1-api-id"


def test_https_only_with_tls_1_2_on_both_names_and_no_default_endpoint(aws_run):
    reg, _, _ = aws_run
    for api in reg.of_type("aws:apigatewayv2/api:Api"):
        assert api.inputs["protocolType"] == "HTTP"
        assert api.inputs["disableExecuteApiEndpoint"] is True
    domains = reg.of_type("aws:apigatewayv2/domainName:DomainName")
    assert sorted(d.inputs["domainName"] for d in domains) == [
        "api-aws-eu-west-1.example.com",
        "api-aws-us-east-1.example.com",
        "api.example.com",
        "api.example.com",
    ]
    for d in domains:
        conf = d.inputs["domainNameConfiguration"]
        assert conf["securityPolicy"] == "TLS_1_2"
        assert conf["endpointType"] == "REGIONAL"
        # The validated certificate of the domain's own region.
        validation = reg.named(
            f"mck-test-aws-{reg.provider_region(d)}-api", "aws:acm/certificateValidation:CertificateValidation"
        )
        assert conf["certificateArn"] == validation.inputs["certificateArn"]
        assert conf["certificateArn"].startswith("arn:aws:acm:")
    for mapping in reg.of_type("aws:apigatewayv2/apiMapping:ApiMapping"):
        assert mapping.inputs["stage"] == "$default"


def test_certificates_are_dns_validated_in_the_zone_with_one_record_per_name(aws_run):
    reg, _, _ = aws_run
    for cert in reg.of_type("aws:acm/certificate:Certificate"):
        region = reg.provider_region(cert)
        assert cert.inputs["validationMethod"] == "DNS"
        assert cert.inputs["domainName"] == f"api-aws-{region}.example.com"
        assert cert.inputs["subjectAlternativeNames"] == ["api.example.com"]
    validations = [r for r in reg.of_type(R53) if "-validation-" in r.name]
    names = sorted(r.inputs["name"] for r in validations)
    # Three names, three records: the global name's record serves both regions.
    assert len(names) == 3 and len(set(names)) == 3
    assert sum(n.endswith(".api.example.com.") for n in names) == 1
    for r in validations:
        assert r.inputs["type"] == "CNAME" and r.inputs["zoneId"] == MOCK_ZONE_ID
        assert reg.by_urn[r.parent].type == RegionalApi.TYPE
    for v in reg.of_type("aws:acm/certificateValidation:CertificateValidation"):
        region = reg.provider_region(v)
        assert sorted(v.inputs["validationRecordFqdns"]) == sorted(
            n.rstrip(".")
            for n in names
            if n.endswith(f"api-aws-{region}.example.com.") or n.endswith(".api.example.com.")
        )


def test_global_name_has_a_latency_record_per_region_behind_a_health_check(aws_run):
    reg, _, _ = aws_run
    checks = {r.name: r for r in reg.of_type(HEALTH)}
    assert set(checks) == {"mck-test-aws-us-east-1-api", "mck-test-aws-eu-west-1-api"}
    for region in ("us-east-1", "eu-west-1"):
        check = checks[f"mck-test-aws-{region}-api"]
        assert check.inputs["type"] == "HTTPS" and check.inputs["port"] == 443 and check.inputs["enableSni"] is True
        assert check.inputs["fqdn"] == f"api-aws-{region}.example.com"
        assert check.inputs["resourcePath"] == "/healthz"
        latency = reg.named(f"mck-test-aws-{region}-api-global", R53)
        assert latency.inputs["name"] == "api.example.com" and latency.inputs["type"] == "A"
        assert latency.inputs["latencyRoutingPolicies"] == [{"region": region}]
        assert latency.inputs["setIdentifier"] == f"aws-{region}"
        assert latency.inputs["healthCheckId"] == f"mck-test-aws-{region}-api-id"
        [alias] = latency.inputs["aliases"]
        global_domain = reg.named(f"mck-test-aws-{region}-api-global", "aws:apigatewayv2/domainName:DomainName")
        assert alias["name"].startswith("d-") and alias["zoneId"] == API_GATEWAY_ZONE_ID
        assert global_domain.inputs["domainName"] == "api.example.com"
        regional = reg.named(f"mck-test-aws-{region}-api-regional", R53)
        assert regional.inputs["name"] == f"api-aws-{region}.example.com"
        assert regional.inputs["aliases"][0]["name"] != alias["name"]


def test_dns_is_written_through_one_global_provider(aws_run):
    reg, _, _ = aws_run
    [dns] = [r for r in reg.of_type("pulumi:providers:aws") if r.name == "mck-test-api-dns"]
    for r in reg.of_type(R53) + reg.of_type(HEALTH):
        assert r.provider == dns.urn


def test_every_api_resource_is_under_the_api_component_and_nothing_is_public(aws_run):
    reg, _, outputs = aws_run
    api_resources = [r for r in reg.all if mine(reg, r)]
    assert len(api_resources) > 30
    assert not reg.of_type("aws:ec2/internetGateway:InternetGateway")
    assert "0.0.0.0/0" not in repr([r.inputs for r in api_resources])
    assert outputs["hostname"] == "api.example.com"
    assert outputs["regions"]["aws/eu-west-1"]["vpcLinkSecurityGroupId"] == "mck-test-aws-eu-west-1-api-vpc-link-id"


def test_zone_id_from_config_skips_the_lookup():
    _, m, _ = run_registry(aws_program(api_key(AWS_BACKENDS, zoneId="Z0123456789ABCDEFGHIJ")))
    assert not any(token == "aws:route53/getZone:getZone" for token, _ in m.calls)


def test_zone_is_looked_up_by_name_when_no_id_is_given(aws_run):
    _, m, _ = aws_run
    assert ("aws:route53/getZone:getZone", "us-east-1") in m.calls


@dataclass(frozen=True)
class StandInGcpNetwork:
    """The attributes a GCP entry point reads of the GCP realization's region network."""

    project: str
    vpc: pulumi.Resource
    provider: pulumi.ProviderResource
    global_provider: pulumi.ProviderResource


def gcp_program():
    backends = {
        "aws/us-east-1": aws_backend("us-east-1"),
        "gcp/europe-west1": gcp_backend("europe-west1", "10.130.0.0/23"),
        "gcp/asia-southeast1": gcp_backend("asia-southeast1", "10.131.0.0/23", protocol="HTTP2"),
    }
    _, api_plan = api_plans(MIXED_REGIONS, api_key(backends))

    def program():
        glob = gcp.Provider("gcp-global", project="acme-streaming")
        vpc = gcp.compute.Network(
            "vpc", project="acme-streaming", auto_create_subnetworks=False, opts=pulumi.ResourceOptions(provider=glob)
        )
        networks = {
            key: StandInGcpNetwork(
                "acme-streaming", vpc, gcp.Provider(key, project="acme-streaming", region=e.region.name), glob
            )
            for key, e in api_plan.endpoints.items()
            if e.region.cloud == "gcp"
        }
        aws_net = aws_stand_in()
        networks["aws/us-east-1"] = aws_net
        return RegionalApi("mck-test", api_plan, networks).outputs

    return program


def aws_stand_in():
    region = Region("aws", "us-east-1", ipaddress.ip_network("10.10.0.0/16"))
    provider = aws.Provider("aws-us-east-1", region="us-east-1")
    return AwsNetwork(
        "mck-test-aws-us-east-1", AwsNetworkArgs(region, ["10.10.0.0/16"]), pulumi.ResourceOptions(provider=provider)
    )


@pytest.fixture(scope="module")
def gcp_run():
    return run_registry(gcp_program())


def test_one_gcp_load_balancer_per_gcp_region_in_its_region(gcp_run):
    reg, _, outputs = gcp_run
    points = reg.of_type("multicloud-kafka:api:GcpEntryPoint")
    assert sorted(p.name for p in points) == ["mck-test-gcp-asia-southeast1-api", "mck-test-gcp-europe-west1-api"]
    for type_ in (
        "gcp:compute/forwardingRule:ForwardingRule",
        "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
        "gcp:compute/regionBackendService:RegionBackendService",
        "gcp:certificatemanager/certificate:Certificate",
        "gcp:compute/subnetwork:Subnetwork",
    ):
        found = reg.of_type(type_)
        assert len(found) == 2, type_
        for r in found:
            region = "europe-west1" if "europe-west1" in r.name else "asia-southeast1"
            assert reg.provider_region(r) == region
            assert r.inputs.get("region", r.inputs.get("location")) == region
    assert set(outputs["regions"]) == {"aws/us-east-1", "gcp/europe-west1", "gcp/asia-southeast1"}
    assert outputs["regions"]["gcp/europe-west1"]["address"].startswith("203.0.113.")


def test_gcp_listens_on_443_only_with_a_managed_certificate_and_tls_1_2(gcp_run):
    reg, _, _ = gcp_run
    for rule in reg.of_type("gcp:compute/forwardingRule:ForwardingRule"):
        assert rule.inputs["portRange"] == "443"
        assert rule.inputs["loadBalancingScheme"] == "EXTERNAL_MANAGED"
        assert rule.inputs["target"] == f"{rule.name}-id"
        assert rule.inputs["network"] == "vpc-id"
        assert f"{rule.name}-proxy-id" in [reg.by_urn[d].name + "-id" for d in rule.dependencies if d in reg.by_urn]
    assert not reg.of_type("gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy")
    for proxy in reg.of_type("gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy"):
        assert proxy.inputs["certificateManagerCertificates"] == [f"{proxy.name}-id"]
        assert proxy.inputs["sslPolicy"] == f"{proxy.name}-id"
    for policy in reg.of_type("gcp:compute/regionSslPolicy:RegionSslPolicy"):
        assert policy.inputs["minTlsVersion"] == "TLS_1_2" and policy.inputs["profile"] == "MODERN"
    for cert in reg.of_type("gcp:certificatemanager/certificate:Certificate"):
        region = cert.inputs["location"]
        managed = cert.inputs["managed"]
        assert managed["domains"] == [f"api-gcp-{region}.example.com", "api.example.com"]
        assert managed["dnsAuthorizations"] == [f"{cert.name}-regional-id", f"{cert.name}-global-id"]
    for auth in reg.of_type("gcp:certificatemanager/dnsAuthorization:DnsAuthorization"):
        assert auth.inputs["type"] == "PER_PROJECT_RECORD"


def test_gcp_backend_is_reached_from_the_proxies_only(gcp_run):
    reg, _, _ = gcp_run
    for subnet in reg.of_type("gcp:compute/subnetwork:Subnetwork"):
        assert subnet.inputs["purpose"] == "REGIONAL_MANAGED_PROXY" and subnet.inputs["role"] == "ACTIVE"
    europe = reg.named("mck-test-gcp-europe-west1-api-backend", "gcp:compute/firewall:Firewall")
    assert europe.inputs["direction"] == "INGRESS"
    assert europe.inputs["sourceRanges"] == ["10.130.0.0/23", "35.191.0.0/16", "130.211.0.0/22"]
    assert europe.inputs["allows"] == [{"protocol": "tcp", "ports": ["8443"]}]
    service = reg.named("mck-test-gcp-europe-west1-api", "gcp:compute/regionBackendService:RegionBackendService")
    assert service.inputs["protocol"] == "HTTPS"
    assert [b["group"] for b in service.inputs["backends"]] == [
        "projects/acme-streaming/zones/europe-west1-b/networkEndpointGroups/orders"
    ]
    check = reg.named("mck-test-gcp-asia-southeast1-api", "gcp:compute/regionHealthCheck:RegionHealthCheck")
    assert check.inputs["http2HealthCheck"]["requestPath"] == "/healthz"


def test_gcp_regions_join_the_global_name_under_their_nearest_aws_region(gcp_run):
    reg, _, _ = gcp_run
    latency = {
        r.inputs["setIdentifier"]: r
        for r in reg.of_type(R53)
        if r.inputs.get("name") == "api.example.com" and "-validation-" not in r.name
    }
    assert set(latency) == {"aws-us-east-1", "gcp-europe-west1", "gcp-asia-southeast1"}
    europe = latency["gcp-europe-west1"]
    assert europe.inputs["latencyRoutingPolicies"] == [{"region": "eu-west-3"}]
    assert europe.inputs["ttl"] == 60 and europe.inputs["records"][0].startswith("203.0.113.")
    assert europe.inputs["healthCheckId"] == "mck-test-gcp-europe-west1-api-id"
    assert latency["gcp-asia-southeast1"].inputs["latencyRoutingPolicies"] == [{"region": "ap-southeast-1"}]
    # The GCP global name is validated once for both GCP regions, apart from ACM's record.
    gcp_validation = [r for r in reg.of_type(R53) if "-api-gcp-validation-" in r.name]
    assert sorted(r.name for r in gcp_validation) == [
        "mck-test-api-gcp-validation-api-example-com",
        "mck-test-api-gcp-validation-api-gcp-asia-southeast1-example-com",
        "mck-test-api-gcp-validation-api-gcp-europe-west1-example-com",
    ]


def test_switching_architecture_leaves_the_api_untouched():
    def api_resources(architecture: str):
        reg, _, _ = run_registry(aws_program(api_key(AWS_BACKENDS), architecture))
        return {(r.type, r.name, json_of(r.inputs)) for r in reg.all if mine(reg, r)}

    # Same resources with the same inputs; the architecture component's
    # aliases carry their URNs across (tests/test_program.py checks those).
    assert api_resources("header-routing") == api_resources("regional-clusters")


def json_of(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)
