"""The Pulumi program: config -> validated Config -> Plan -> architecture component.

Outputs (all map-shaped; see README "Outputs"):
  architecture  the stack's architecture key
  hubBootstrap  bootstrap address of the hub cluster (in-cloud clients)
  regions       region key -> {bootstrap: {cluster key: address}, routing: contract,
                and with the api key, api: the region's entry point}
  api           with the api key: the global hostname and each region's entry point
"""

import pulumi
from pulumi.runtime import config as runtime_config

from infra import api, stackfile
from infra.architectures import build_plan
from infra.components.api.component import RegionalApi
from infra.components.architecture import component_for
from infra.config import validate


def stack_config() -> dict:
    """Every config value of the running stack, as the flat map validate() takes."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return stackfile.decode(raw)


config = validate(stack_config(), pulumi.get_stack())
plan = build_plan(config)
api_plan = api.plan_api(config)
architecture = component_for(plan)(plan.config.name_prefix, plan)
regions = architecture.regions
if api_plan is not None:
    regional_api = RegionalApi(
        plan.config.name_prefix,
        api_plan,
        architecture.realization.networks,
        pulumi.ResourceOptions(parent=architecture),
    )
    regions = regions.apply(api_plan.with_endpoints)
    pulumi.export("api", regional_api.outputs)

pulumi.export("architecture", plan.architecture)
pulumi.export("hubBootstrap", architecture.hub_bootstrap)
pulumi.export("regions", regions)
