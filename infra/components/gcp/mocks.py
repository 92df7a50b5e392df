"""Mock outputs of the GCP resources and of the AWS VPN and MSK Connect ones.

`infra/components/mocks.py` adds these to what it echoes back, so that the
GCP and cross-cloud components run under mocks with plausible values:
Managed Kafka bootstrap addresses, HA VPN interface and AWS tunnel outside
addresses (distinct per resource), service account emails and keys.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
from typing import Any, Callable

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs


def _public_ip(seed: str, n: int) -> str:
    """A stable stand-in for a public address, distinct per seed and n."""
    h = int.from_bytes(hashlib.sha256(f"{seed}/{n}".encode()).digest()[:2], "big")
    return str(ipaddress.ip_address("100.64.0.0") + h)


def _project(args: MockResourceArgs) -> str:
    return args.inputs.get("project", "mock-project")


def _cluster(args: MockResourceArgs) -> dict[str, Any]:
    cid, loc = args.inputs["clusterId"], args.inputs["location"]
    return {
        "name": f"projects/{_project(args)}/locations/{loc}/clusters/{cid}",
        "bootstrapAddress": f"bootstrap.{cid}.{loc}.managedkafka.{_project(args)}.cloud.goog:9092",
    }


def _connect(args: MockResourceArgs) -> dict[str, Any]:
    cid, loc = args.inputs["connectClusterId"], args.inputs["location"]
    return {"name": f"projects/{_project(args)}/locations/{loc}/connectClusters/{cid}"}


def _connector(args: MockResourceArgs) -> dict[str, Any]:
    return {"name": f"connectors/{args.inputs['connectorId']}"}


def _topic(args: MockResourceArgs) -> dict[str, Any]:
    return {"name": f"clusters/{args.inputs['cluster']}/topics/{args.inputs['topicId']}"}


def _self_link(args: MockResourceArgs) -> dict[str, Any]:
    where = f"regions/{args.inputs['region']}" if "region" in args.inputs else "global"
    kind = args.typ.rsplit(":", 1)[-1].lower()
    return {"selfLink": f"https://www.googleapis.com/compute/v1/projects/{_project(args)}/{where}/{kind}s/{args.inputs.get('name', args.name)}"}


def _ha_vpn_gateway(args: MockResourceArgs) -> dict[str, Any]:
    return {"vpnInterfaces": [{"id": i, "ipAddress": _public_ip(args.name, i)} for i in range(2)]}


def _account(args: MockResourceArgs) -> dict[str, Any]:
    email = f"{args.inputs['accountId']}@{_project(args)}.iam.gserviceaccount.com"
    return {"email": email, "member": f"serviceAccount:{email}", "name": f"projects/{_project(args)}/serviceAccounts/{email}"}


def _key(args: MockResourceArgs) -> dict[str, Any]:
    key_file = json.dumps({"type": "service_account", "private_key_id": args.name})
    return {"privateKey": base64.b64encode(key_file.encode()).decode()}


def _vpn_connection(args: MockResourceArgs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in (1, 2):
        out[f"tunnel{t}Address"] = _public_ip(args.name, t)
        cidr = args.inputs.get(f"tunnel{t}InsideCidr")
        if cidr:
            net = ipaddress.ip_network(cidr)
            out[f"tunnel{t}VgwInsideAddress"] = str(net.network_address + 1)
            out[f"tunnel{t}CgwInsideAddress"] = str(net.network_address + 2)
    return out


def _revision(args: MockResourceArgs) -> dict[str, Any]:
    return {"latestRevision": 1}


OUTPUTS: dict[str, Callable[[MockResourceArgs], dict[str, Any]]] = {
    "gcp:managedkafka/cluster:Cluster": _cluster,
    "gcp:managedkafka/connectCluster:ConnectCluster": _connect,
    "gcp:managedkafka/connector:Connector": _connector,
    "gcp:managedkafka/topic:Topic": _topic,
    "gcp:compute/network:Network": _self_link,
    "gcp:compute/subnetwork:Subnetwork": _self_link,
    "gcp:compute/haVpnGateway:HaVpnGateway": _ha_vpn_gateway,
    "gcp:serviceaccount/account:Account": _account,
    "gcp:serviceaccount/key:Key": _key,
    "aws:ec2/vpnConnection:VpnConnection": _vpn_connection,
    "aws:mskconnect/customPlugin:CustomPlugin": _revision,
    "aws:mskconnect/workerConfiguration:WorkerConfiguration": _revision,
}


def _addresses(args: MockCallArgs) -> dict[str, Any]:
    """Cloud DNS inbound forwarders: one address per subnet of the region."""
    region = args.args.get("region", "")
    address = _public_ip(f"dns/{region}", 0).replace("100.", "10.", 1)
    return {
        "addresses": [
            {
                "address": address,
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
        "filter": args.args.get("filter", ""),
        "id": f"addresses-{region}",
        "project": args.args.get("project", ""),
        "region": region,
    }


def _project_of(args: MockCallArgs) -> dict[str, Any]:
    project = args.args.get("projectId", "mock-project")
    return {"projectId": project, "number": str(int(hashlib.sha256(project.encode()).hexdigest()[:10], 16)), "id": f"projects/{project}"}


INVOKES: dict[str, Callable[[MockCallArgs], dict[str, Any]]] = {
    "gcp:compute/getAddresses:getAddresses": _addresses,
    "gcp:organizations/getProject:getProject": _project_of,
}
