"""The Pulumi program: config -> validated Config -> Plan -> architecture component.

`__main__.py` runs `main()` for `pulumi up`; the engine tests run the same
function as an Automation API inline program.

Outputs (all map-shaped; see docs/aws.md "Outputs"):
  architecture  the stack's architecture key
  hubBootstrap  bootstrap address of the hub cluster (in-cloud clients)
  regions       region key -> {bootstrap: {cluster key: address}, routing: contract,
                and with the api key, api: the region's entry point}
  monitoring    cloud -> {dashboard: {name, region}, notifications: {target: SNS topic ARN | {email: channel}}}
  access        region key -> {policyArn: IAM policy for its AWS services, serviceAccount: its GCP services' account,
                scramLogin: {username, password (secret)} of a self-managed region's services on its own cluster}
  api           with the api key: the global hostname and each region's entry point
  operatorMirrors  with a self-managed region under regional-clusters: flow key -> {worker, connectors,
                environment}, the MirrorMaker 2 the operator runs next to its cluster (docs/config.md)
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from infra import stackfile
from infra.architectures import build_plan
from infra.components.architecture import TYPE_PREFIX, ArchitectureComponent, component_for
from infra.config import validate
from infra.kinds import ActiveHub
from infra.switchguard import Deployed, refusal

# The engine's built-in invoke returning every resource of a stack's last
# checkpoint (URN -> type and outputs); the running update has not replaced
# it yet when the program starts.
READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"
CHECKPOINT_READS = 5
CHECKPOINT_RETRY_S = 0.5


class SwitchRefused(Exception):
    """An architecture switch the engine could only half apply; nothing was registered."""


def stack_config() -> dict[str, Any]:
    """Every config value of the running stack, as the flat map validate() takes."""
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return stackfile.decode(raw)


def deployed() -> Deployed | None:
    """The architecture, protection and standby hub the stack's last update registered, if any.

    Read synchronously from the stack's own state before anything is
    registered, so a refused switch runs no step at all.
    """
    name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    for attempt in range(CHECKPOINT_READS):
        try:
            result = pulumi.runtime.invoke(READ_STACK_RESOURCES, {"stackName": name})
            break
        except Exception as e:
            # The local file backend can fail a read that races the checkpoint
            # the engine writes as the update starts ("failed to load
            # checkpoint: EOF"); a moment later the read succeeds.
            if "failed to load checkpoint" not in str(e) or attempt == CHECKPOINT_READS - 1:
                raise
            time.sleep(CHECKPOINT_RETRY_S)
    resources = (result.value or {}).get("outputs") or {}
    for state in resources.values():
        outputs = state.get("outputs") or {}
        if str(state.get("type", "")).startswith(TYPE_PREFIX + ":") and "architecture" in outputs:
            standby = outputs.get("standbyHub")
            return Deployed(
                str(outputs["architecture"]),
                bool(outputs.get("protect", True)),
                str(standby) if standby else None,
                str(outputs.get("activeHub", ActiveHub.HUB.value)),
            )
    return None


def main() -> ArchitectureComponent:
    """Registers the stack's resources and exports its outputs; returns the architecture component."""
    config = validate(stack_config(), pulumi.get_stack(), runtime_config.is_config_secret)
    plan = build_plan(config)
    refused = refusal(deployed(), plan)
    if refused:
        raise SwitchRefused(refused)
    architecture = component_for(plan)(plan.config.name_prefix, plan)
    pulumi.export("architecture", plan.architecture)
    pulumi.export("hubBootstrap", architecture.hub_bootstrap)
    pulumi.export("regions", architecture.regions)
    pulumi.export("monitoring", architecture.monitoring)
    pulumi.export("access", architecture.access)
    if architecture.api is not None:
        pulumi.export("api", architecture.api.outputs)
    if architecture.operator_mirrors:
        pulumi.export("operatorMirrors", architecture.operator_mirrors)
    return architecture
