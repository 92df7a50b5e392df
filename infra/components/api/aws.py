"""An AWS region's API entry point: API Gateway HTTP API with a VPC link.

API Gateway is the entry point because it adds nothing public to the VPC:
the VPC keeps no internet gateway and no public subnet, and API Gateway's
VPC link places its network interfaces in the region's private subnets,
beside the backend and the MSK brokers. It speaks HTTPS only (there is no
port 80 to redirect), with the TLS 1.2 security policy on both custom
domains, and the default execute-api endpoint is turned off, so the API is
reachable by its own names only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.api.plan import ApiPlan, Endpoint
from infra.api.settings import BACKEND, IAM, JWT, AwsBackend
from infra.components.api import dns
from infra.components.base import expect, present

TLS_POLICY = "TLS_1_2"
# The HTTP API route's authorizationType per `api.authorization.type`.
ROUTE_AUTHORIZATION = {JWT: "JWT", IAM: "AWS_IAM", BACKEND: "NONE"}
# The API's tag stating who authenticates its requests; the policy pack reads it.
AUTHORIZATION_TAG = "multicloud-kafka:authorization"


def health_route_key(path: str) -> str:
    """The route Route 53's health checks take: GET of the health path, without its query."""
    return f"GET {path.split('?', 1)[0]}"


ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime",'
    '"method":"$context.httpMethod","path":"$context.path","status":"$context.status",'
    '"latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage"}'
)


@dataclass(frozen=True)
class AwsEntryPointArgs:
    plan: ApiPlan
    endpoint: Endpoint
    # The region's AwsNetwork (infra/components/aws/network.py).
    network: Any
    zone: dns.Zone


def _validation_option(options: list[Any] | None, domain: str) -> Any:
    for option in options or []:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM gave no DNS validation record for {domain}")


class AwsEntryPoint(pulumi.ComponentResource):
    """HTTPS on the region's own name and the global name, proxied to the backend."""

    TYPE = "multicloud-kafka:api:AwsEntryPoint"

    def __init__(self, name: str, args: AwsEntryPointArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        plan, endpoint, net, zone = args.plan, args.endpoint, args.network, args.zone
        backend = expect(endpoint.backend, AwsBackend, f"API entry point of {endpoint.region.key}")
        child = pulumi.ResourceOptions(parent=self)
        domains = (endpoint.hostname, plan.hostname)

        self.certificate = aws.acm.Certificate(
            name,
            domain_name=endpoint.hostname,
            subject_alternative_names=[plan.hostname],
            validation_method="DNS",
            tags={"Name": name},
            opts=child,
        )
        records = []
        for domain in domains:
            option = self.certificate.domain_validation_options.apply(
                functools.partial(_validation_option, domain=domain)
            )
            records.append(
                zone.validation_record(
                    "aws",
                    domain,
                    option.apply(lambda o: o.resource_record_name),
                    option.apply(lambda o: o.resource_record_type),
                    option.apply(lambda o: o.resource_record_value),
                )
            )
        validation = aws.acm.CertificateValidation(
            name,
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[r.fqdn for r in records],
            opts=child,
        )

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-vpc-link",
            name=f"{name}-vpc-link",
            description="API Gateway VPC link: out to the API backend in this VPC only",
            vpc_id=net.vpc.id,
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=backend.port,
                    to_port=backend.port,
                    cidr_blocks=[str(endpoint.region.cidr)],
                    description="API backend",
                )
            ],
            tags={"Name": f"{name}-vpc-link"},
            opts=child,
        )
        vpc_link = aws.apigatewayv2.VpcLink(
            name,
            name=name,
            subnet_ids=net.vpc_link_subnet_ids,
            security_group_ids=[self.security_group.id],
            tags={"Name": name},
            opts=child,
        )
        self.api = aws.apigatewayv2.Api(
            name,
            name=name,
            protocol_type="HTTP",
            disable_execute_api_endpoint=True,
            description=f"Regional API of {endpoint.region.key}, served as {endpoint.hostname} and {plan.hostname}",
            tags={"Name": name, AUTHORIZATION_TAG: plan.authorization.type},
            opts=child,
        )
        integration = aws.apigatewayv2.Integration(
            name,
            api_id=self.api.id,
            integration_type="HTTP_PROXY",
            integration_method="ANY",
            integration_uri=backend.integration_uri,
            connection_type="VPC_LINK",
            connection_id=vpc_link.id,
            payload_format_version="1.0",
            tls_config=(
                aws.apigatewayv2.IntegrationTlsConfigArgs(server_name_to_verify=backend.tls_server_name)
                if backend.tls_server_name
                else None
            ),
            opts=child,
        )
        integration_target = pulumi.Output.concat("integrations/", integration.id)
        auth = plan.authorization
        authorizer = None
        if auth.type == JWT:
            authorizer = aws.apigatewayv2.Authorizer(
                name,
                api_id=self.api.id,
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
                    issuer=auth.issuer, audiences=list(auth.audience)
                ),
                name=f"{name}-jwt",
                opts=child,
            )
        aws.apigatewayv2.Route(
            name,
            api_id=self.api.id,
            route_key="$default",
            target=integration_target,
            authorization_type=ROUTE_AUTHORIZATION[auth.type],
            authorizer_id=authorizer.id if authorizer is not None else None,
            opts=child,
        )
        if auth.type != BACKEND:
            # Route 53's health checks carry no token: the health path alone
            # is open, and forwards to the backend like every other request.
            aws.apigatewayv2.Route(
                f"{name}-health",
                api_id=self.api.id,
                route_key=health_route_key(plan.health_path),
                target=integration_target,
                authorization_type="NONE",
                opts=child,
            )
        logs = net.log_group(f"{name}-access", f"/aws/apigateway/{name}", child)
        stage = aws.apigatewayv2.Stage(
            name,
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=logs.arn, format=ACCESS_LOG_FORMAT
            ),
            tags={"Name": name},
            opts=child,
        )

        self.domains: dict[str, aws.apigatewayv2.DomainName] = {}
        for role, domain in zip(("regional", "global"), domains, strict=True):
            self.domains[role] = aws.apigatewayv2.DomainName(
                f"{name}-{role}",
                domain_name=domain,
                domain_name_configuration=aws.apigatewayv2.DomainNameDomainNameConfigurationArgs(
                    certificate_arn=validation.certificate_arn,
                    endpoint_type="REGIONAL",
                    security_policy=TLS_POLICY,
                ),
                tags={"Name": f"{name}-{role}"},
                opts=child,
            )
            aws.apigatewayv2.ApiMapping(
                f"{name}-{role}",
                api_id=self.api.id,
                domain_name=self.domains[role].domain_name,
                stage=stage.name,
                opts=child,
            )

        def target(role: str) -> dns.Target:
            configuration = self.domains[role].domain_name_configuration
            return dns.Target(
                alias_name=configuration.apply(lambda c: present(c.target_domain_name, "API domain target")),
                alias_zone_id=configuration.apply(lambda c: present(c.hosted_zone_id, "API domain zone")),
            )

        self.health_check = dns.endpoint_records(self, name, zone, plan, endpoint, target("regional"), target("global"))
        # What the region's entry in the `api` output adds to the plan's names.
        self.outputs = {"vpcLinkSecurityGroupId": self.security_group.id}
        self.register_outputs({"url": endpoint.url, "healthCheckId": self.health_check.id, **self.outputs})
