"""The whole program (`__main__.py`) under the mocks, as the stack and policy tests run it."""

from __future__ import annotations

import json
import runpy
from collections.abc import Sequence
from typing import Any

from infra import stackfile
from infra.architectures import build_plan
from infra.components.base import RealizationError
from infra.config import validate
from infra.plan import Plan
from tests.support import mocks
from tests.support.stacks import GCP_HUB, MAIN, raw_config, stack_file_config


def run_main(
    config: dict[str, str], stack: str = "test", secret_keys: Sequence[str] = ()
) -> tuple[list[mocks.Registration], Any, RealizationError | None]:
    """(registrations, outputs, RealizationError or None) of __main__.py under mocks; `secret_keys`: the
    keys of `config` Pulumi holds as secrets."""
    refused: list[RealizationError] = []

    def program() -> Any:
        try:
            a = runpy.run_path(str(MAIN))["architecture"]
        except RealizationError as e:
            refused.append(e)
            return None
        return {"hubBootstrap": a.hub_bootstrap, "regions": a.regions, "monitoring": a.monitoring, "access": a.access}

    monitor, _, outputs = mocks.run(program, config, stack, secret_keys=secret_keys)
    return monitor.registrations, outputs, (refused[0] if refused else None)


def plan_of(config: dict[str, str], stack: str = "test") -> Plan:
    return build_plan(validate(stackfile.decode(config), stack))


def of_type(registrations: list[mocks.Registration], type_: str) -> list[mocks.Registration]:
    return [r for r in registrations if r.type == type_]


ALERT_EMAILS = ["oncall@example.com", "kafka@example.com"]
# The stacks the alarm tests realize: every repo stack file, and a mixed-cloud stack with a GCP hub.
GCP_HUB_CASE = "gcp-hub"
ALARM_CASES = [*stackfile.stacks(), GCP_HUB_CASE]


def realize_alarm_case(case: str, emails: bool) -> tuple[Plan, list[mocks.Registration], dict[str, Any]]:
    """(plan, registrations, outputs) of one alarm case; `emails`: the stack files also get ALERT_EMAILS.

    The GCP-hub stack always notifies ALERT_EMAILS.
    """
    if case == GCP_HUB_CASE:
        config = raw_config("regional-clusters", GCP_HUB, hub="gcp/europe-west1", alerts={"emails": ALERT_EMAILS})
        stack = "test"
    else:
        config = stack_file_config(case)
        if emails:
            config["multicloud-kafka:alerts"] = json.dumps({"emails": ALERT_EMAILS})
        stack = case
    regs, outputs, refused = run_main(config, stack)
    assert refused is None
    return plan_of(config, stack), regs, outputs
