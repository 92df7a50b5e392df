"""The checker every config key is validated with, and the error it raises.

`Checker` collects every problem of a stack's config instead of stopping at
the first, each naming the full key, the bad value and what to do; the
validators of `infra.config` and `infra.api` write into the same checker, so
one `ConfigError` lists them all. Nothing here imports Pulumi.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NS = "multicloud-kafka"


def k(name: str) -> str:
    """The full config key of one of this project's settings."""
    return f"{NS}:{name}"


@dataclass(frozen=True)
class Problem:
    key: str
    value: Any
    fix: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}: {self.fix}"


class ConfigError(ValueError):
    """Every problem of a stack's config at once."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"stack '{stack}': {len(problems)} config {noun}:\n{lines}")


class Checker:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, key: str, value: Any, fix: str) -> None:
        self.problems.append(Problem(key, value, fix))

    def integer(self, key: str, value: Any, lo: int, hi: int | None = None) -> int | None:
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(key, value, f"must be a whole number{range_text(lo, hi)}")
            return None
        if value < lo or (hi is not None and value > hi):
            self.add(key, value, f"must be{range_text(lo, hi)}")
            return None
        return value

    def boolean(self, key: str, value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.add(key, value, "must be true or false")
        return None

    def mapping(self, key: str, value: Any, what: str) -> Mapping[str, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(key, value, f"must be a map of {what}")
            return None
        return value

    def fields(
        self,
        key: str,
        value: Any,
        spec: Mapping[str, tuple[str, Callable[[str, Any], Any]]],
        what: str,
    ) -> dict[str, Any] | None:
        """Reads a map of camelCase fields into snake_case keyword arguments."""
        m = self.mapping(key, value, what)
        if m is None:
            return None
        out: dict[str, Any] = {}
        for name, v in m.items():
            if name not in spec:
                self.add(f"{key}.{name}", v, f"is not a setting of {what}; known: {', '.join(spec)}")
                continue
            attr, read = spec[name]
            parsed = read(f"{key}.{name}", v)
            if parsed is not None:
                out[attr] = parsed
        return out


def range_text(lo: int, hi: int | None) -> str:
    return f" from {lo} to {hi}" if hi is not None else f" of at least {lo}"
