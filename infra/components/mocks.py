"""Pulumi mocks for the tests and the benchmark: nothing reaches a cloud.

`AwsMocks` answers resource registrations and invokes with plausible AWS
values (ARNs, bootstrap addresses, AZ names of the provider's region).
`RecordingMonitor` also keeps, per registered resource, the options the
tests assert on (parent, provider, protect, retain_on_delete, aliases).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from infra.components.api import mocks as api_mocks
from infra.components.gcp import mocks as gcp_mocks

ACCOUNT = "123456789012"
AWS_PROVIDER = "pulumi:providers:aws"


def mock_arn(type_: str, name: str, region: str) -> str:
    """The ARN the mocks give a resource that has no more specific one."""
    return f"arn:aws:mock:{region}:{ACCOUNT}:{type_}/{name}"


def unsecret(value: Any) -> tuple[Any, bool]:
    """(plain value, whether it was a Pulumi secret) of a recorded input."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value["value"], True
    return value, False


def _urn_of(ref: Optional[str]) -> str:
    """A provider reference is '<urn>::<id>'."""
    return ref.rsplit("::", 1)[0] if ref else ""


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


_DIRECTIONS = {"northeast": "ne", "southeast": "se", "central": "c", "east": "e", "west": "w", "north": "n", "south": "s"}


def zone_id_prefix(region: str) -> str:
    """usw2 for us-west-2, apse1 for ap-southeast-1: how AWS zone IDs begin."""
    area, *words, number = region.split("-")
    return area + "".join(_DIRECTIONS.get(w, w[0]) for w in words) + number


def availability_zones(region: str, query: dict) -> dict:
    """getAvailabilityZones of the mocks, honouring its zone-type filter and exclusions."""
    default = [(f"{region}{z}", f"{zone_id_prefix(region)}-az{i}", "availability-zone") for i, z in enumerate("abc", 1)]
    zones = ZONES.get(region, default)
    for f in query.get("filters") or []:
        if f["name"] == "zone-type":
            zones = [z for z in zones if z[2] in f["values"]]
    excluded = set(query.get("excludeZoneIds") or [])
    zones = [z for z in zones if z[1] not in excluded]
    return {"names": [z[0] for z in zones], "zoneIds": [z[1] for z in zones]}


class AwsMocks(Mocks):
    """Echoes inputs back and adds the outputs our code reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.provider_regions: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []

    def region_of(self, provider_ref: Optional[str]) -> str:
        """The region of the provider a resource or invoke names ('<urn>::<id>')."""
        return self.provider_regions.get(provider_ref.rsplit("::", 1)[-1], "") if provider_ref else ""

    def new_resource(self, args: MockResourceArgs) -> tuple[Optional[str], dict]:
        out = dict(args.inputs)
        if args.typ == AWS_PROVIDER:
            with self._lock:
                self.provider_regions[f"{args.name}-id"] = args.inputs.get("region", "")
            return f"{args.name}-id", out
        region = self.region_of(args.provider)
        if args.typ == "aws:msk/cluster:Cluster" or args.typ == "aws:msk/serverlessCluster:ServerlessCluster":
            name = args.inputs.get("clusterName", args.name)
            out["arn"] = f"arn:aws:kafka:{region}:{ACCOUNT}:cluster/{name}/uuid-{name}"
            host = f"b-1.{name}.kafka.{region}.amazonaws.com"
            out["bootstrapBrokersSaslIam"] = f"{host}:9098"
            out["bootstrapBrokersSaslScram"] = f"{host}:9096"
            out["bootstrapBrokersTls"] = f"{host}:9094"
        elif args.typ == "aws:msk/configuration:Configuration":
            out["latestRevision"] = 1
            out["arn"] = f"arn:aws:kafka:{region}:{ACCOUNT}:configuration/{args.name}"
        elif args.typ == "random:index/randomPassword:RandomPassword":
            # Distinct per resource, so tests can tell which secret went where.
            seed = hashlib.sha256(args.name.encode()).hexdigest()
            out["result"] = (seed * 4)[: int(args.inputs.get("length", 16))]
        else:
            out.setdefault("arn", mock_arn(args.typ, args.name, region))
        if args.typ in gcp_mocks.OUTPUTS:
            out.update(gcp_mocks.OUTPUTS[args.typ](args))
        if args.typ in api_mocks.OUTPUTS:
            out.update(api_mocks.OUTPUTS[args.typ](args))
        if args.typ == "aws:cloudwatch/logGroup:LogGroup":
            out.setdefault("name", args.name)
        return f"{args.name}-id", out

    def call(self, args: MockCallArgs) -> dict:
        region = self.region_of(args.provider)
        with self._lock:
            self.calls.append((args.token, region))
        if args.token in gcp_mocks.INVOKES:
            return gcp_mocks.INVOKES[args.token](args)
        if args.token in api_mocks.INVOKES:
            return api_mocks.INVOKES[args.token](args)
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return availability_zones(region, args.args)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/mock", "id": ACCOUNT, "userId": "mock"}
        raise NotImplementedError(f"no mock for invoke {args.token}")


@dataclass(frozen=True)
class Registration:
    """One registered resource, with the options that matter to tests."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    alias_types: tuple[str, ...]
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps every registration, in order."""

    def __init__(self, mocks: Mocks):
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            reg = Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                provider=_urn_of(request.provider),
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                alias_types=tuple(a.spec.type for a in request.aliases if a.HasField("spec") and a.spec.type),
                dependencies=tuple(request.dependencies),
                inputs=rpc.deserialize_properties(request.object),
            )
            with self._lock:
                self.registrations.append(reg)
        return response


PROJECT = "multicloud-kafka"


def run(program, config: dict[str, Any] | None = None, stack: str = "test", monitor_cls=RecordingMonitor):
    """Runs `program()` under fresh mocks until every registration is done.

    `config` is the stack's config as Pulumi hands it to a program (full
    keys, objects as JSON text). `program` may return an Output or a plain
    value; returns (monitor, mocks, resolved value).
    """
    mocks = AwsMocks()
    monitor = monitor_cls(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}), [])
    result: dict[str, Any] = {}

    def body():
        return pulumi.Output.from_input(program()).apply(lambda v: result.setdefault("value", v))

    pulumi.runtime.test(body)()
    return monitor, mocks, result.get("value")
