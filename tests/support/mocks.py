"""Pulumi mocks for the tests and the benchmark: nothing reaches a cloud.

`CloudMocks` answers resource registrations and invokes of every cloud with
the values of `tests.support.outputs`, the region of an AWS resource being
that of its provider. `RecordingMonitor` also keeps, per registered resource,
the options the tests assert on (parent, provider, protect,
retain_on_delete, aliases); `Registry` looks them up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from tests.support.outputs import Invoke, Resource, invoke_result, resource_outputs

AWS_PROVIDER = "pulumi:providers:aws"
# The Pulumi project the program runs in (Pulumi.yaml's name).
PULUMI_PROJECT = "multicloud-kafka"


def unsecret(value: Any) -> tuple[Any, bool]:
    """(plain value, whether it was a Pulumi secret) of a recorded input."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value["value"], True
    return value, False


def secret(value: Any) -> Any:
    """The plain value of a recorded input that must be a Pulumi secret."""
    plain, is_secret = unsecret(value)
    assert is_secret, f"not a secret: {value!r}"
    return plain


def urn_of(ref: str | None) -> str:
    """The URN in a provider reference ('<urn>::<id>')."""
    return ref.rsplit("::", 1)[0] if ref else ""


class CloudMocks(Mocks):
    """Echoes inputs back and adds the outputs our code reads, for AWS, GCP and the rest alike."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.provider_regions: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []

    def region_of(self, provider_ref: str | None) -> str:
        """The region of the AWS provider a resource or invoke names ('<urn>::<id>'); '' for any other."""
        return self.provider_regions.get(provider_ref.rsplit("::", 1)[-1], "") if provider_ref else ""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == AWS_PROVIDER:
            with self._lock:
                self.provider_regions[f"{args.name}-id"] = args.inputs.get("region", "")
            return f"{args.name}-id", dict(args.inputs)
        resource = Resource(args.typ, args.name, args.inputs, self.region_of(args.provider))
        return f"{args.name}-id", resource_outputs(resource)

    def call(self, args: MockCallArgs) -> dict:
        region = self.region_of(args.provider)
        with self._lock:
            self.calls.append((args.token, region))
        return invoke_result(Invoke(args.token, args.args, region))


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

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            reg = Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                provider=urn_of(request.provider),
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                alias_types=tuple(a.spec.type for a in request.aliases if a.HasField("spec") and a.spec.type),
                dependencies=tuple(request.dependencies),
                inputs=rpc.deserialize_properties(request.object),
            )
            with self._lock:
                self.registrations.append(reg)
        return response


class Registry:
    """The registrations of one run, with the look-ups tests need."""

    def __init__(self, registrations: list[Registration]):
        self.all = registrations
        self.by_urn = {r.urn: r for r in registrations}

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.all if r.type == type_]

    def one(self, type_: str) -> Registration:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, got {[r.name for r in found]}"
        return found[0]

    def named(self, name: str, type_: str) -> Registration:
        return next(r for r in self.all if r.name == name and r.type == type_)

    def provider_region(self, r: Registration) -> str:
        return self.by_urn[r.provider].inputs["region"]

    def ancestors(self, r: Registration) -> list[Registration]:
        out = []
        while r.parent in self.by_urn:
            r = self.by_urn[r.parent]
            out.append(r)
        return out


def run(
    program: Callable[[], Any],
    config: dict[str, Any] | None = None,
    stack: str = "test",
    monitor_cls: Callable[[Mocks], MockMonitor] = RecordingMonitor,
    secret_keys: Sequence[str] = (),
) -> tuple[Any, CloudMocks, Any]:
    """Runs `program()` under fresh mocks until every registration is done.

    `config` is the stack's config as Pulumi hands it to a program (full
    keys, objects as JSON text), `secret_keys` those of its keys Pulumi
    holds as secrets. `program` may return an Output or a plain value;
    returns (monitor, mocks, resolved value).
    """
    mocks = CloudMocks()
    monitor = monitor_cls(mocks)
    pulumi.runtime.set_mocks(mocks, project=PULUMI_PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    result: dict[str, Any] = {}

    def body() -> Any:
        return pulumi.Output.from_input(program()).apply(lambda v: result.setdefault("value", v))

    pulumi.runtime.test(body)()
    return monitor, mocks, result.get("value")


def run_registry(program: Callable[[], Any], config: dict[str, Any] | None = None) -> tuple[Registry, CloudMocks, Any]:
    """(Registry, mocks, value) of `program` under fresh mocks."""
    monitor, mocks, value = run(program, config)
    return Registry(monitor.registrations), mocks, value
