"""Reading a stack's config from its stack file, without Pulumi."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from infra.config import Config, validate
from infra.validation import ConfigError, Problem

ROOT = Path(__file__).resolve().parent.parent
STACKS = ROOT / "stacks"


def stack_path(stack: str) -> Path:
    return STACKS / f"Pulumi.{stack}.yaml"


def stacks() -> list[str]:
    """Every stack with a file under stacks/, by name."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml"))


def decode(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi hands objects to programs as JSON text; stack files as YAML."""
    out = {}
    for key, value in raw.items():
        out[key] = value
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                out[key] = json.loads(value)
    return out


def read(path: Path, text: str | None = None) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text() if text is None else text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(path.stem, [Problem(str(path), "(file)", f"is not valid YAML: {e}")]) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise ConfigError(path.stem, [Problem(str(path), "(file)", "needs a top-level 'config:' map")])
    return decode(config)


def load(stack: str, path: Path | None = None) -> Config:
    """The validated config of a stack, read from its stack file."""
    path = path or stack_path(stack)
    if not path.exists():
        known = ", ".join(stacks()) or "none"
        raise ConfigError(stack, [Problem("stack", stack, f"has no file {path} (stacks here: {known})")])
    return validate(read(path), stack)


def load_at(stack: str, rev: str) -> Config:
    """The validated config of a stack as its file was at git revision `rev`."""
    rel = stack_path(stack).relative_to(ROOT)
    shown = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        raise ConfigError(stack, [Problem("--against", rev, f"git has no {rel} there: {shown.stderr.strip()}")])
    return validate(read(stack_path(stack), shown.stdout), stack)
