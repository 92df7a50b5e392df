"""Stand-in aws, gcp, random and kafka providers for the engine tests (test support only).

The provider plugins cannot be downloaded on these machines, so this process
serves the provider gRPC protocol (`pulumi.runtime.proto`) for the four
packages on loopback ports, and the engine attaches to them through
`PULUMI_DEBUG_PROVIDERS=aws:PORT,gcp:PORT,random:PORT,kafka:PORT`. Each provider:

- Check/CheckConfig: rejects unknown and missing required inputs at any
  depth, judged by the provider SDK's own input types (`inputs.problems`).
- Diff/DiffConfig: compares the new inputs with the old *inputs* (never the
  outputs) and asks for a replacement where the real provider would
  (`forcenew.FORCE_NEW`).
- Create/Update: returns the inputs plus the computed outputs our code reads,
  from the same tables the Pulumi mocks use (`tests/support/outputs.py`).
- Invoke: answers from the mocks' invoke tables.
- Delete: appends what it deleted to the ledger the tests read.

The kafka provider does its Create, Update and Delete for real, on a Kafka
broker on loopback per cluster (`kafka.py`).

Every Create, Update and Delete goes to the ledger, one JSON object a line.
Nothing reaches a cloud. Run as
`python -m tests.support.engine.standin LEDGER`: prints
`aws:PORT,gcp:PORT,random:PORT,kafka:PORT` on one line, then serves until
stdin closes, then stops the brokers it started.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent import futures
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from tests.support.engine import forcenew, inputs, kafka
from tests.support.mocks import CloudMocks

PACKAGES = ("aws", "gcp", "random", "kafka")
PropertyDiff = provider_pb2.PropertyDiff
REPLACING_KIND = {
    PropertyDiff.ADD: PropertyDiff.ADD_REPLACE,
    PropertyDiff.DELETE: PropertyDiff.DELETE_REPLACE,
    PropertyDiff.UPDATE: PropertyDiff.UPDATE_REPLACE,
}


def to_dict(s: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(s)


def to_struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def changes(old: Any, new: Any, path: str = "") -> dict[str, int]:
    """Dotted path -> PropertyDiff kind of every difference between two input values."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: dict[str, int] = {}
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else key
            if key not in old:
                out[sub] = PropertyDiff.ADD
            elif key not in new:
                out[sub] = PropertyDiff.DELETE
            else:
                out.update(changes(old[key], new[key], sub))
        return out
    return {} if old == new else {path: PropertyDiff.UPDATE}


class Ledger:
    """Append-only record of every Create, Update and Delete, one JSON object a line."""

    def __init__(self, path: Path):
        self._path = path
        self._lock = threading.Lock()

    def record(self, op: str, request: Any, id_: str) -> None:
        line = json.dumps({"op": op, "type": request.type, "urn": request.urn, "id": id_})
        with self._lock, self._path.open("a") as f:
            f.write(line + "\n")


class StandIn(provider_pb2_grpc.ResourceProviderServicer):
    """One package's provider; every engine connection is one provider instance."""

    def __init__(self, package: str, ledger: Ledger):
        self.package = package
        self.version = metadata.version(f"pulumi-{package}")
        self.ledger = ledger
        self.mocks = CloudMocks()
        self._lock = threading.Lock()

    def _instance(self, context: grpc.ServicerContext) -> str:
        # The engine opens one connection per provider resource, so the peer
        # names the instance whose Configure set the region.
        return f"urn:standin::{context.peer()}"

    def _mock_args(self, request: Any, props: dict[str, Any], context: grpc.ServicerContext) -> MockResourceArgs:
        return MockResourceArgs(request.type, request.name, props, self._instance(context), None, True)

    def Handshake(self, request, context):
        return provider_pb2.ProviderHandshakeResponse(
            accept_secrets=False, accept_resources=False, accept_outputs=False
        )

    def Attach(self, request, context):
        # The engine calls it on a provider it attached to (PULUMI_DEBUG_PROVIDERS) with its own
        # address; these providers never call back into the engine.
        return empty_pb2.Empty()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self.version)

    def Configure(self, request, context):
        config = to_dict(request.args)
        region = config.get("region") or request.variables.get(f"{self.package}:config:region", "")
        with self._lock:
            self.mocks.provider_regions[context.peer()] = str(region)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=False, acceptResources=False, acceptOutputs=False
        )

    def _check(self, token: str, request, context):
        news = to_dict(request.news)
        failures = [provider_pb2.CheckFailure(property=p, reason=r) for p, r in inputs.problems(token, news)]
        return provider_pb2.CheckResponse(inputs=request.news, failures=failures)

    def CheckConfig(self, request, context):
        return self._check(f"pulumi:providers:{self.package}", request, context)

    def Check(self, request, context):
        return self._check(request.type, request, context)

    def _diff(self, type_: str, request) -> provider_pb2.DiffResponse:
        found = changes(to_dict(request.old_inputs), to_dict(request.news))
        if not found:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE, hasDetailedDiff=True)
        replaces = forcenew.replaces(type_, set(found))
        detailed = {}
        for path, kind in found.items():
            replacing = path.split(".", 1)[0] in replaces
            detailed[path] = PropertyDiff(kind=REPLACING_KIND[kind] if replacing else kind, inputDiff=True)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME,
            replaces=replaces,
            diffs=sorted({p.split(".", 1)[0] for p in found}),
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def DiffConfig(self, request, context):
        return self._diff(f"pulumi:providers:{self.package}", request)

    def Diff(self, request, context):
        return self._diff(request.type, request)

    def Create(self, request, context):
        if request.preview:
            # The real providers leave computed outputs unknown in a preview.
            return provider_pb2.CreateResponse(properties=request.properties)
        id_, outputs = self.mocks.new_resource(self._mock_args(request, to_dict(request.properties), context))
        self.ledger.record("create", request, id_ or "")
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(outputs))

    def Read(self, request, context):
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request, context):
        if request.preview:
            return provider_pb2.UpdateResponse(properties=request.news)
        _, outputs = self.mocks.new_resource(self._mock_args(request, to_dict(request.news), context))
        self.ledger.record("update", request, request.id)
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Delete(self, request, context):
        self.ledger.record("delete", request, request.id)
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        result = self.mocks.call(MockCallArgs(request.tok, to_dict(request.args), self._instance(context)))
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})

    def Cancel(self, request, context):
        return empty_pb2.Empty()


class KafkaStandIn(StandIn):
    """pulumi-kafka: Check and Diff as the others; Create, Update and Delete for real on the cluster's broker."""

    def __init__(self, ledger: Ledger, brokers: kafka.Brokers):
        super().__init__("kafka", ledger)
        self.brokers = brokers
        self._clusters: dict[str, str] = {}

    def Configure(self, request, context):
        with self._lock:
            self._clusters[context.peer()] = kafka.cluster_key(to_dict(request.args))
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=False, acceptResources=False, acceptOutputs=False
        )

    def _admin(self, context: grpc.ServicerContext) -> Any:
        with self._lock:
            cluster = self._clusters[context.peer()]
        return self.brokers.admin(cluster)

    def _fail(self, context: grpc.ServicerContext, op: str, request: Any, e: Exception) -> None:
        context.abort(grpc.StatusCode.UNKNOWN, f"kafka stand-in: {op} {request.urn}: {e}")

    def Create(self, request, context):
        props = to_dict(request.properties)
        if request.preview:
            return provider_pb2.CreateResponse(properties=request.properties)
        try:
            id_ = kafka.create(self._admin(context), request.type, props)
        except Exception as e:
            self._fail(context, "create", request, e)
        self.ledger.record("create", request, id_)
        return provider_pb2.CreateResponse(id=id_, properties=request.properties)

    def Update(self, request, context):
        if request.preview:
            return provider_pb2.UpdateResponse(properties=request.news)
        try:
            kafka.update(self._admin(context), request.type, to_dict(request.olds), to_dict(request.news))
        except Exception as e:
            self._fail(context, "update", request, e)
        self.ledger.record("update", request, request.id)
        return provider_pb2.UpdateResponse(properties=request.news)

    def Delete(self, request, context):
        try:
            kafka.delete(self._admin(context), request.type, to_dict(request.properties))
        except Exception as e:
            self._fail(context, "delete", request, e)
        self.ledger.record("delete", request, request.id)
        return empty_pb2.Empty()


def serve(ledger_path: Path, brokers: kafka.Brokers) -> tuple[list[grpc.Server], dict[str, int]]:
    """Starts one server per package on a free loopback port; returns them and the ports."""
    ledger = Ledger(ledger_path)
    servers, ports = [], {}
    for package in PACKAGES:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        servicer = KafkaStandIn(ledger, brokers) if package == "kafka" else StandIn(package, ledger)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        ports[package] = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
    return servers, ports


def main() -> None:
    ledger = Path(sys.argv[1])
    brokers = kafka.Brokers(ledger.parent / "kafka")
    servers, ports = serve(ledger, brokers)
    print(",".join(f"{p}:{port}" for p, port in ports.items()), flush=True)
    sys.stdin.read()
    for server in servers:
        server.stop(grace=1)
    brokers.close()


if __name__ == "__main__":
    main()
