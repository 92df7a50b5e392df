"""Fixtures for the API component tests: run a program under the mocks."""

from __future__ import annotations

from typing import Any, Callable

import pulumi
import pytest

from infra.components import mocks
from infra.components.api import mocks as api_mocks
from tests.components.conftest import Registry


class ApiMocks(mocks.AwsMocks):
    def new_resource(self, args):
        id_, out = super().new_resource(args)
        if args.typ in api_mocks.OUTPUTS:
            out.update(api_mocks.OUTPUTS[args.typ](args))
        return id_, out

    def call(self, args):
        if args.token in api_mocks.INVOKES:
            self.calls.append((args.token, self.region_of(args.provider)))
            return api_mocks.INVOKES[args.token](args)
        return super().call(args)


@pytest.fixture
def run_api() -> Callable:
    """run_api(program) -> (Registry, mocks, value) under the mocks."""

    def _run(program: Callable[[], Any]):
        m = ApiMocks()
        monitor = mocks.RecordingMonitor(m)
        pulumi.runtime.set_mocks(m, project=mocks.PROJECT, stack="test", preview=False, monitor=monitor)
        result: dict[str, Any] = {}

        def body():
            return pulumi.Output.from_input(program()).apply(lambda v: result.setdefault("value", v))

        pulumi.runtime.test(body)()
        return Registry(monitor.registrations), m, result.get("value")

    return _run
