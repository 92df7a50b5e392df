"""What a stand-in cloud answers: the outputs of each resource type and invoke our code reads.

One table for every stand-in, so the Pulumi mocks (`tests.support.mocks`) and
any provider standing in for AWS and GCP under the real engine give the same
values: ARNs, MSK and Managed Kafka bootstrap addresses, HA VPN interface and
AWS tunnel outside addresses (distinct per resource), service account emails
and keys, ACM's and Certificate Manager's DNS validation records (the same
record for the same name in every region, as the real services give), API
Gateway custom domain targets, load balancer addresses, record FQDNs, the
availability zones of a region and Cloud DNS's inbound forwarders.

`resource_outputs` and `invoke_result` are the entry points; the tables
`OUTPUTS` and `INVOKES` are what they consult.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
MOCK_ZONE_ID = "Z0MOCKZONE0000000000"
# API Gateway's hosted zone for regional custom domains in us-east-1.
API_GATEWAY_ZONE_ID = "Z1UJRXOUMOOFQ8"
# Resource types that get no ARN: they are not AWS resources with one.
NO_ARN = frozenset({"random:index/randomPassword:RandomPassword"})


@dataclass(frozen=True)
class Resource:
    """A resource as registered: type token, name, inputs, region of its AWS provider ('' if none)."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    region: str = ""


@dataclass(frozen=True)
class Invoke:
    """An invoke (data source call): token, arguments, region of its AWS provider ('' if none)."""

    token: str
    args: Mapping[str, Any]
    region: str = ""


def mock_arn(type_: str, name: str, region: str) -> str:
    """The ARN a resource gets that has no more specific one."""
    return f"arn:aws:mock:{region}:{ACCOUNT}:{type_}/{name}"


def public_ip(seed: str, n: int) -> str:
    """A stable stand-in for a public address, distinct per seed and n."""
    h = int.from_bytes(hashlib.sha256(f"{seed}/{n}".encode()).digest()[:2], "big")
    return str(ipaddress.ip_address("100.64.0.0") + h)


def dns_forwarder(region: str) -> str:
    """The address of Cloud DNS's inbound forwarder in a GCP region."""
    return public_ip(f"dns/{region}", 0).replace("100.", "10.", 1)


def _h(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def _project(r: Resource) -> str:
    return str(r.inputs.get("project", "mock-project"))


def _msk_cluster(r: Resource) -> dict[str, Any]:
    name = r.inputs.get("clusterName", r.name)
    host = f"b-1.{name}.kafka.{r.region}.amazonaws.com"
    return {
        "arn": f"arn:aws:kafka:{r.region}:{ACCOUNT}:cluster/{name}/uuid-{name}",
        "bootstrapBrokersSaslIam": f"{host}:9098",
        "bootstrapBrokersSaslScram": f"{host}:9096",
        "bootstrapBrokersTls": f"{host}:9094",
    }


def _msk_configuration(r: Resource) -> dict[str, Any]:
    return {"latestRevision": 1, "arn": f"arn:aws:kafka:{r.region}:{ACCOUNT}:configuration/{r.name}"}


def _random_password(r: Resource) -> dict[str, Any]:
    # Distinct per resource, so tests can tell which secret went where.
    # A change of keepers makes a new password, as the random provider does.
    keepers = r.inputs.get("keepers")
    seed = hashlib.sha256((r.name + (json.dumps(keepers, sort_keys=True) if keepers else "")).encode()).hexdigest()
    return {"result": (seed * 4)[: int(r.inputs.get("length", 16))]}


def _log_group(r: Resource) -> dict[str, Any]:
    return {"name": r.inputs.get("name", r.name)}


def _managed_kafka_cluster(r: Resource) -> dict[str, Any]:
    cid, loc = r.inputs["clusterId"], r.inputs["location"]
    return {
        "name": f"projects/{_project(r)}/locations/{loc}/clusters/{cid}",
        "bootstrapAddress": f"bootstrap.{cid}.{loc}.managedkafka.{_project(r)}.cloud.goog:9092",
    }


def _connect_cluster(r: Resource) -> dict[str, Any]:
    cid, loc = r.inputs["connectClusterId"], r.inputs["location"]
    return {"name": f"projects/{_project(r)}/locations/{loc}/connectClusters/{cid}"}


def _connector(r: Resource) -> dict[str, Any]:
    return {"name": f"connectors/{r.inputs['connectorId']}"}


def _notification_channel(r: Resource) -> dict[str, Any]:
    """Cloud Monitoring names a channel by a number it assigns: projects/P/notificationChannels/N."""
    number = int.from_bytes(hashlib.sha256(r.name.encode()).digest()[:6], "big")
    return {"name": f"projects/{_project(r)}/notificationChannels/{number}"}


def _topic(r: Resource) -> dict[str, Any]:
    return {"name": f"clusters/{r.inputs['cluster']}/topics/{r.inputs['topicId']}"}


def _self_link(r: Resource) -> dict[str, Any]:
    where = f"regions/{r.inputs['region']}" if "region" in r.inputs else "global"
    kind = r.type.rsplit(":", 1)[-1].lower()
    name = r.inputs.get("name", r.name)
    return {"selfLink": f"https://www.googleapis.com/compute/v1/projects/{_project(r)}/{where}/{kind}s/{name}"}


def _ha_vpn_gateway(r: Resource) -> dict[str, Any]:
    return {"vpnInterfaces": [{"id": i, "ipAddress": public_ip(r.name, i)} for i in range(2)]}


def _service_account(r: Resource) -> dict[str, Any]:
    email = f"{r.inputs['accountId']}@{_project(r)}.iam.gserviceaccount.com"
    return {
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{_project(r)}/serviceAccounts/{email}",
    }


def _custom_role(r: Resource) -> dict[str, Any]:
    return {"name": f"projects/{_project(r)}/roles/{r.inputs['roleId']}"}


def _service_account_key(r: Resource) -> dict[str, Any]:
    key_file = json.dumps({"type": "service_account", "private_key_id": r.name})
    return {"privateKey": base64.b64encode(key_file.encode()).decode()}


def _vpn_connection(r: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in (1, 2):
        out[f"tunnel{t}Address"] = public_ip(r.name, t)
        cidr = r.inputs.get(f"tunnel{t}InsideCidr")
        if cidr:
            net = ipaddress.ip_network(cidr)
            out[f"tunnel{t}VgwInsideAddress"] = str(net.network_address + 1)
            out[f"tunnel{t}CgwInsideAddress"] = str(net.network_address + 2)
    return out


def _revision(r: Resource) -> dict[str, Any]:
    return {"latestRevision": 1}


def _secret_version(r: Resource) -> dict[str, Any]:
    """Secrets Manager's version IDs are UUIDs; one per version, stable per resource here."""
    h = hashlib.sha256(f"version/{r.name}".encode()).hexdigest()
    return {"versionId": f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"}


def _acm_certificate(r: Resource) -> dict[str, Any]:
    domains = [r.inputs["domainName"], *r.inputs.get("subjectAlternativeNames", [])]
    return {
        "arn": f"arn:aws:acm:mock:{ACCOUNT}:certificate/{_h(r.name)}",
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


def _record(r: Resource) -> dict[str, Any]:
    return {"fqdn": str(r.inputs.get("name", "")).rstrip(".")}


def _domain_name(r: Resource) -> dict[str, Any]:
    configuration = dict(r.inputs.get("domainNameConfiguration", {}))
    configuration["targetDomainName"] = f"d-{_h(r.name)}.execute-api.amazonaws.com"
    configuration["hostedZoneId"] = API_GATEWAY_ZONE_ID
    return {"domainNameConfiguration": configuration}


def _dns_authorization(r: Resource) -> dict[str, Any]:
    domain, project = r.inputs["domain"], _project(r)
    return {
        "dnsResourceRecords": [
            {
                "name": f"_acme-challenge_{_h('gcp', project)}.{domain}.",
                "type": "CNAME",
                "data": f"{_h('gcp-value', project, domain)}.1.authorize.certificatemanager.goog.",
            }
        ]
    }


def _address(r: Resource) -> dict[str, Any]:
    # TEST-NET-3 (RFC 5737): documentation addresses, distinct per resource.
    n = int(_h(r.name), 16) % 254 + 1
    return {"address": str(ipaddress.ip_address("203.0.113.0") + n)}


OUTPUTS: dict[str, Callable[[Resource], dict[str, Any]]] = {
    "aws:msk/cluster:Cluster": _msk_cluster,
    "aws:msk/serverlessCluster:ServerlessCluster": _msk_cluster,
    "aws:msk/configuration:Configuration": _msk_configuration,
    "random:index/randomPassword:RandomPassword": _random_password,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:ec2/vpnConnection:VpnConnection": _vpn_connection,
    "aws:mskconnect/customPlugin:CustomPlugin": _revision,
    "aws:mskconnect/workerConfiguration:WorkerConfiguration": _revision,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:acm/certificate:Certificate": _acm_certificate,
    "aws:route53/record:Record": _record,
    "aws:apigatewayv2/domainName:DomainName": _domain_name,
    "gcp:managedkafka/cluster:Cluster": _managed_kafka_cluster,
    "gcp:managedkafka/connectCluster:ConnectCluster": _connect_cluster,
    "gcp:managedkafka/connector:Connector": _connector,
    "gcp:managedkafka/topic:Topic": _topic,
    "gcp:monitoring/notificationChannel:NotificationChannel": _notification_channel,
    "gcp:compute/network:Network": _self_link,
    "gcp:compute/subnetwork:Subnetwork": _self_link,
    "gcp:compute/haVpnGateway:HaVpnGateway": _ha_vpn_gateway,
    "gcp:compute/address:Address": _address,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:serviceaccount/key:Key": _service_account_key,
    "gcp:projects/iAMCustomRole:IAMCustomRole": _custom_role,
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": _dns_authorization,
}


# (name, zone ID, zone type) per region, as DescribeAvailabilityZones lists
# them: names map to IDs differently in every account, us-east-1 holds MSK's
# unsupported use1-az3 and a Local Zone, us-west-1 has two AZs. Other
# regions: three zones, a-c -> az1-az3.
ZONES = {
    "us-east-1": [
        ("us-east-1a", "use1-az4", "availability-zone"),
        ("us-east-1b", "use1-az6", "availability-zone"),
        ("us-east-1c", "use1-az1", "availability-zone"),
        ("us-east-1d", "use1-az2", "availability-zone"),
        ("us-east-1e", "use1-az3", "availability-zone"),
        ("us-east-1f", "use1-az5", "availability-zone"),
        ("us-east-1-bos-1a", "use1-bos1-az1", "local-zone"),
    ],
    "us-west-1": [("us-west-1b", "usw1-az3", "availability-zone"), ("us-west-1c", "usw1-az1", "availability-zone")],
}
_DIRECTIONS = {
    "northeast": "ne",
    "southeast": "se",
    "central": "c",
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
}


def zone_id_prefix(region: str) -> str:
    """usw2 for us-west-2, apse1 for ap-southeast-1: how AWS zone IDs begin."""
    area, *words, number = region.split("-")
    return area + "".join(_DIRECTIONS.get(w, w[0]) for w in words) + number


def _availability_zones(call: Invoke) -> dict[str, Any]:
    """getAvailabilityZones, honouring its zone-type filter and excluded zone IDs."""
    region = call.region
    default = [(f"{region}{z}", f"{zone_id_prefix(region)}-az{i}", "availability-zone") for i, z in enumerate("abc", 1)]
    zones = ZONES.get(region, default)
    for f in call.args.get("filters") or []:
        if f["name"] == "zone-type":
            zones = [z for z in zones if z[2] in f["values"]]
    excluded = set(call.args.get("excludeZoneIds") or [])
    zones = [z for z in zones if z[1] not in excluded]
    return {"names": [z[0] for z in zones], "zoneIds": [z[1] for z in zones]}


def _caller_identity(call: Invoke) -> dict[str, Any]:
    return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/mock", "id": ACCOUNT, "userId": "mock"}


def _project_lookup(call: Invoke) -> dict[str, Any]:
    project = call.args.get("projectId", "mock-project")
    number = str(int(hashlib.sha256(project.encode()).hexdigest()[:10], 16))
    return {"projectId": project, "number": number, "id": f"projects/{project}"}


def _addresses(call: Invoke) -> dict[str, Any]:
    """Cloud DNS inbound forwarders: one address per subnet of the region."""
    region = call.args.get("region", "")
    return {
        "addresses": [
            {
                "address": dns_forwarder(region),
                "addressType": "INTERNAL",
                "description": "",
                "labels": {},
                "name": f"dns-forwarding-{region}",
                "prefixLength": 0,
                "region": region,
                "selfLink": f"https://www.googleapis.com/compute/v1/projects/p/regions/{region}/addresses/dns",
                "status": "IN_USE",
            }
        ],
        "filter": call.args.get("filter", ""),
        "id": f"addresses-{region}",
        "project": call.args.get("project", ""),
        "region": region,
    }


def _zone(call: Invoke) -> dict[str, Any]:
    return {
        "zoneId": MOCK_ZONE_ID,
        "id": MOCK_ZONE_ID,
        "name": call.args.get("name", ""),
        "privateZone": call.args.get("privateZone", False),
    }


def _stack_resources(call: Invoke) -> dict[str, Any]:
    """The program reads its stack's last state (its switch guard): under mocks, a new stack."""
    return {"name": call.args.get("stackName", ""), "outputs": {}}


INVOKES: dict[str, Callable[[Invoke], dict[str, Any]]] = {
    "pulumi:pulumi:readStackResourceOutputs": _stack_resources,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "gcp:compute/getAddresses:getAddresses": _addresses,
    "aws:route53/getZone:getZone": _zone,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "gcp:organizations/getProject:getProject": _project_lookup,
}


def resource_outputs(r: Resource) -> dict[str, Any]:
    """The state of a new resource: its inputs echoed back, an ARN, and what `OUTPUTS` computes for its type."""
    out = dict(r.inputs)
    if r.type not in NO_ARN:
        out.setdefault("arn", mock_arn(r.type, r.name, r.region))
    if r.type in OUTPUTS:
        out.update(OUTPUTS[r.type](r))
    return out


def invoke_result(call: Invoke) -> dict[str, Any]:
    """What an invoke returns; an invoke with no entry in `INVOKES` is an error naming its token."""
    if call.token not in INVOKES:
        raise NotImplementedError(f"no stand-in for invoke {call.token}")
    return INVOKES[call.token](call)
