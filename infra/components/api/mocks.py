"""Mock outputs of the API's resources and the hosted zone look-up.

`infra/components/mocks.py` adds these to what it echoes back: ACM's and
Certificate Manager's DNS validation records (the same record for the same
name in every region, as the real services give), API Gateway custom
domain targets, regional load balancer addresses and record FQDNs.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any, Callable

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

MOCK_ZONE_ID = "Z0MOCKZONE0000000000"
# API Gateway's hosted zone for regional custom domains in us-east-1.
API_GATEWAY_ZONE_ID = "Z1UJRXOUMOOFQ8"


def _h(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def _acm_certificate(args: MockResourceArgs) -> dict[str, Any]:
    domains = [args.inputs["domainName"], *args.inputs.get("subjectAlternativeNames", [])]
    return {
        "arn": f"arn:aws:acm:mock:123456789012:certificate/{_h(args.name)}",
        "domainValidationOptions": [
            {
                "domainName": d,
                "resourceRecordName": f"_{_h('acm', d)}.{d}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_h('acm-value', d)}.acm-validations.aws.",
            }
            for d in domains
        ],
    }


def _record(args: MockResourceArgs) -> dict[str, Any]:
    return {"fqdn": str(args.inputs.get("name", "")).rstrip(".")}


def _domain_name(args: MockResourceArgs) -> dict[str, Any]:
    configuration = dict(args.inputs.get("domainNameConfiguration", {}))
    configuration["targetDomainName"] = f"d-{_h(args.name)}.execute-api.amazonaws.com"
    configuration["hostedZoneId"] = API_GATEWAY_ZONE_ID
    return {"domainNameConfiguration": configuration}


def _dns_authorization(args: MockResourceArgs) -> dict[str, Any]:
    domain, project = args.inputs["domain"], args.inputs.get("project", "mock-project")
    return {
        "dnsResourceRecords": [
            {
                "name": f"_acme-challenge_{_h('gcp', project)}.{domain}.",
                "type": "CNAME",
                "data": f"{_h('gcp-value', project, domain)}.1.authorize.certificatemanager.goog.",
            }
        ]
    }


def _address(args: MockResourceArgs) -> dict[str, Any]:
    # TEST-NET-3 (RFC 5737): documentation addresses, distinct per resource.
    n = int(_h(args.name), 16) % 254 + 1
    return {"address": str(ipaddress.ip_address("203.0.113.0") + n)}


OUTPUTS: dict[str, Callable[[MockResourceArgs], dict[str, Any]]] = {
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:route53/record:Record": _record,
    "aws:apigatewayv2/domainName:DomainName": _domain_name,
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": _dns_authorization,
    "gcp:compute/address:Address": _address,
}

INVOKES: dict[str, Callable[[MockCallArgs], dict[str, Any]]] = {
    "aws:route53/getZone:getZone": lambda args: {
        "zoneId": MOCK_ZONE_ID,
        "id": MOCK_ZONE_ID,
        "name": args.args.get("name", ""),
        "privateZone": args.args.get("privateZone", False),
    },
}
