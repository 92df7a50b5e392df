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
from infra.api.settings import AwsBackend
from infra.components.api import dns
from infra.components.base import expect, present

TLS_POLICY = "TLS_1_2"
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
            option = self.certificate.domain_validation_options.apply(functools.partial(_validation_option, domain=domain))
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
            tags={"Name": name},
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
        aws.apigatewayv2.Route(
            name,
            api_id=self.api.id,
            route_key="$default",
            target=pulumi.Output.concat("integrations/", integration.id),
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
        for role, domain in zip(("regional", "global"), domains):
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
