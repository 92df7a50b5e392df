"""One engine bed (stand-in providers, file backend, temp PULUMI_HOME) per test session.

Stacks are deployed once and reused across tests: the first `up` of each
stack is cached, so the tier pays for each stack's creation once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.engine.driver import EngineBed, Run, cli_path


@pytest.fixture(scope="session")
def bed(request: pytest.FixtureRequest) -> Iterator[EngineBed]:
    # On a fresh machine this builds the CLI (minutes): let its progress lines through pytest's capture.
    with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        cli = cli_path()
    b = EngineBed(cli)
    try:
        yield b
    finally:
        b.close()


class Deployments:
    """The first `up` of each stack in the bed, run on first request."""

    def __init__(self, bed: EngineBed):
        self.bed = bed
        self.first: dict[str, Run] = {}

    def __call__(self, stack: str) -> Run:
        if stack not in self.first:
            self.first[stack] = self.bed.up(stack)
        return self.first[stack]


@pytest.fixture(scope="session")
def deployed(bed: EngineBed) -> Deployments:
    return Deployments(bed)
