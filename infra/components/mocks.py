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
        if args.token == "pulumi:pulumi:readStackResourceOutputs":
            # The program reads its stack's last state (its switch guard): under mocks, a new stack.
            return {"name": args.args.get("stackName", ""), "outputs": {}}
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": [f"{region}{z}" for z in "abc"], "zoneIds": [f"{region}-az{i}" for i in (1, 2, 3)]}
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
