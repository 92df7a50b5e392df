"""The steps an update should take, worked out from the program under Pulumi mocks.

The program registers the same resources, with the same inputs, whether the
mocks or the engine answer it, so comparing its registrations for the old and
the new config says what the engine must do: create what only the new one
registers, delete what only the old one does, update what both register with
different inputs, and leave the rest the same. URNs are compared with the
architecture component's type blanked out, as the engine does through the
component's aliases.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import stackfile
from infra.components.architecture import TYPE_PREFIX
from infra.components.program import main
from tests.support import mocks

_ARCHITECTURE_TYPE = re.compile(re.escape(TYPE_PREFIX) + r":\w+")


def same_identity(urn: str) -> str:
    """The URN with the architecture component's type blanked out."""
    return _ARCHITECTURE_TYPE.sub(TYPE_PREFIX + ":*", urn)


def as_pulumi_config(path: Path) -> dict[str, str]:
    """A stack file's config as Pulumi hands it to a program: every value as text, objects as JSON."""
    out = {}
    for key, value in stackfile.read(path).items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (dict, list)):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


@dataclass(frozen=True)
class Registered:
    type: str
    custom: bool
    inputs: dict[str, Any]


def registrations(path: Path, stack: str) -> dict[str, Registered]:
    """Identity (see `same_identity`) -> what the program registers for this stack file."""
    monitor, _, _ = mocks.run(lambda: main().regions, as_pulumi_config(path), stack)
    return {same_identity(r.urn): Registered(r.type, r.custom, r.inputs) for r in monitor.registrations}


def steps(old: dict[str, Registered], new: dict[str, Registered]) -> dict[str, Counter[str]]:
    """op -> resource type -> count, for the update from `old` to `new` registrations."""
    out: dict[str, Counter[str]] = {"create": Counter(), "delete": Counter(), "update": Counter()}
    for key in new.keys() - old.keys():
        out["create"][new[key].type] += 1
    for key in old.keys() - new.keys():
        out["delete"][old[key].type] += 1
    for key in new.keys() & old.keys():
        if new[key].custom and new[key].inputs != old[key].inputs:
            out["update"][new[key].type] += 1
    return {op: c for op, c in out.items() if c}
