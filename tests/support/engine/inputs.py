"""What a provider's Check rejects, judged by the provider SDK's own input types.

A resource token `aws:msk/cluster:Cluster` names the SDK class
`pulumi_aws.msk.Cluster`, whose `ClusterArgs` is a `pulumi.input_type`: its
properties (camelCase, as on the wire) and their types come from the SDK's
metadata (`pulumi._types.input_type_types`), and the required ones are the
`__init__` parameters without a default. `problems` walks the inputs the
engine sends against that, at any depth (nested input types, lists and maps
of them), and names every unknown and every missing required property.
"""

from __future__ import annotations

import collections.abc
import functools
import importlib
import inspect
import typing
from typing import Any

from pulumi import _types
from pulumi.output import Output

# The engine's marker for a value not known yet (preview): nothing to judge.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# Keys the engine and the SDKs add to provider inputs, which every provider accepts.
PROVIDER_INTERNAL = frozenset({"version", "pluginDownloadURL"})


def _module_name(package: str, module: str) -> str:
    base = f"pulumi_{package}"
    return base if module == "index" else f"{base}.{module.replace('/', '.')}"


@functools.cache
def args_class(token: str) -> type:
    """The SDK's input type of a resource token (or of `pulumi:providers:<pkg>`).

    Taken from the resource class's own module (its `__all__`), since a
    package can also hold a nested input type of the same name (pulumi-aws's
    `VpcPeeringConnectionAccepterArgs` is a block of `VpcPeeringConnection`;
    the accepter resource takes `VpcPeeringConnectionAccepterInitArgs`).
    """
    if token.startswith("pulumi:providers:"):
        package, module_path, name = token.rsplit(":", 1)[1], "index", "Provider"
    else:
        package, module_path, name = token.split(":")
    resource = getattr(importlib.import_module(_module_name(package, module_path.split("/", 1)[0])), name)
    home = importlib.import_module(resource.__module__)
    (args,) = [n for n in home.__all__ if n.startswith(name) and n.endswith("Args")]
    return getattr(home, args)


@functools.cache
def _shape(cls: type) -> tuple[dict[str, Any], frozenset[str]]:
    """(wire name -> type, wire names of the required properties) of an input type."""
    types = _types.input_type_types(cls)
    wire = _types.input_type_py_to_pulumi_names(cls)
    params = inspect.signature(cls.__init__).parameters.values()
    required = frozenset(
        wire[p.name] for p in params if p.kind is p.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    )
    return types, required


def _is_wrapper(t: Any) -> bool:
    """None, Awaitable[T] or Output[T]: the forms of `pulumi.Input[T]` that are not T itself."""
    origin = typing.get_origin(t) or t
    return t is type(None) or origin is collections.abc.Awaitable or origin is Output


def _unwrap(t: Any) -> Any:
    """The value type of `pulumi.Input[T]` / `Optional[T]`: T."""
    while typing.get_origin(t) is typing.Union:
        candidates = [a for a in typing.get_args(t) if not _is_wrapper(a)]
        if len(candidates) != 1:
            return Any
        t = candidates[0]
    return t


def _walk(value: Any, t: Any, path: str, out: list[tuple[str, str]]) -> None:
    if value is None or value == UNKNOWN:
        return
    t = _unwrap(t)
    origin = typing.get_origin(t)
    if isinstance(t, type) and _types.is_input_type(t):
        if not isinstance(value, dict):
            out.append((path, f"must be an object ({t.__name__}), got {type(value).__name__}"))
            return
        _object(value, t, path, out)
    elif origin in (collections.abc.Sequence, list) and isinstance(value, list):
        (item,) = typing.get_args(t) or (Any,)
        for i, v in enumerate(value):
            _walk(v, item, f"{path}[{i}]", out)
    elif origin in (collections.abc.Mapping, dict) and isinstance(value, dict):
        args = typing.get_args(t)
        for k, v in value.items():
            _walk(v, args[1] if len(args) == 2 else Any, f"{path}.{k}", out)


def _object(value: dict[str, Any], cls: type, path: str, out: list[tuple[str, str]]) -> None:
    types, required = _shape(cls)
    prefix = f"{path}." if path else ""
    for key in sorted(set(value) - set(types)):
        out.append((prefix + key, f"is not a property of {cls.__name__} (known: {', '.join(sorted(types))})"))
    for key in sorted(required - {k for k, v in value.items() if v is not None}):
        out.append((prefix + key, f"is required by {cls.__name__} and missing"))
    for key, v in value.items():
        if key in types:
            _walk(v, types[key], prefix + key, out)


def problems(token: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    """(property path, reason) for every input the real provider would reject at check time.

    A provider's own inputs reach CheckConfig with every non-string value
    JSON-encoded, so for `pulumi:providers:<pkg>` only the top-level names
    are judged, less the keys the engine adds.
    """
    out: list[tuple[str, str]] = []
    if token.startswith("pulumi:providers:"):
        types, required = _shape(args_class(token))
        given = set(inputs) - PROVIDER_INTERNAL
        out += [(k, f"is not a configuration key of the {token} provider") for k in sorted(given - set(types))]
        out += [(k, f"is required by the {token} provider and missing") for k in sorted(required - given)]
        return out
    _object(inputs, args_class(token), "", out)
    return out
