"""Every repo stack's registrations under mocks, as the policy rules see resources."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

from infra import stackfile
from policy import rules
from tests.support import mocks
from tests.support.program import plan_of, run_main
from tests.support.stacks import stack_file_config

STACKS = stackfile.stacks()


def resources_of(registrations: Sequence[mocks.Registration]) -> list[rules.Resource]:
    """The registrations as the engine hands them to a policy: providers included."""
    regions = {r.urn: r.inputs.get("region", "") for r in registrations if r.type.startswith("pulumi:providers:")}
    return [
        rules.Resource(
            type=r.type,
            props=r.inputs,
            name=r.name,
            urn=r.urn,
            protect=r.protect,
            region=regions.get(r.provider, ""),
            provider_urn=r.provider,
            dependencies=r.dependencies,
        )
        for r in registrations
        if r.custom
    ]


@functools.cache
def stack(name: str) -> tuple[Any, tuple[rules.Resource, ...]]:
    """(plan, resources) of a repo stack, run once per test session."""
    config = stack_file_config(name)
    registrations, _, refused = run_main(config, name)
    assert refused is None
    return plan_of(config, name), tuple(resources_of(registrations))


def of_type(resources: Sequence[rules.Resource], type_: str) -> list[rules.Resource]:
    return [r for r in resources if r.type == type_]


def changed(r: rules.Resource, **props: Any) -> rules.Resource:
    """`r` with some top-level properties replaced."""
    return dataclasses.replace(r, props={**r.props, **props})


def replaced(resources: Sequence[rules.Resource], old: rules.Resource, new: rules.Resource) -> list[rules.Resource]:
    return [new if r is old else r for r in resources]
