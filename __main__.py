"""The Pulumi program: config -> validated Config -> Plan -> architecture component.

Outputs (all map-shaped; see docs/aws.md "Outputs"):
  architecture  the stack's architecture key
  hubBootstrap  bootstrap address of the hub cluster (in-cloud clients)
  regions       region key -> {bootstrap: {cluster key: address}, routing: contract,
                and with the api key, api: the region's entry point}
  monitoring    cloud -> {dashboard: {name, region}, notifications: {target: SNS topic ARN}}
  api           with the api key: the global hostname and each region's entry point
"""

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra import stackfile
from infra.architectures import build_plan
from infra.components.architecture import component_for
from infra.config import validate


def stack_config() -> dict[str, Any]:
    """Every config value of the running stack, as the flat map validate() takes."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return stackfile.decode(raw)


config = validate(stack_config(), pulumi.get_stack())
plan = build_plan(config)
architecture = component_for(plan)(plan.config.name_prefix, plan)

pulumi.export("architecture", plan.architecture)
pulumi.export("hubBootstrap", architecture.hub_bootstrap)
pulumi.export("regions", architecture.regions)
pulumi.export("monitoring", architecture.monitoring)
if architecture.api is not None:
    pulumi.export("api", architecture.api.outputs)
