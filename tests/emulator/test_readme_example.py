"""The documented routing client example runs as written against a real broker."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The routing client's own README holds the example once it is written; until then docs/emulator.md does.
# Every one of these pages that shows the example gets it run.
PAGES = [ROOT / "routing_client" / "README.md", ROOT / "docs" / "emulator.md"]


def _examples() -> dict[Path, str]:
    found = {}
    for page in PAGES:
        if page.is_file():
            for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S):
                if "RoutingProducer(" in block:
                    found[page] = block
                    break
    return found


EXAMPLES = _examples()


def test_some_page_shows_the_example():
    assert EXAMPLES, f"none of {[str(p.relative_to(ROOT)) for p in PAGES]} shows the routing client example"


@pytest.mark.parametrize("page", list(EXAMPLES), ids=[str(p.relative_to(ROOT)) for p in EXAMPLES])
def test_the_routing_client_example_runs(page, dev_up, capsys):
    plan, emulation = dev_up
    region = "gcp/europe-west1"
    scope = {"contract": plan.routing[region].to_dict(), "bootstrap": emulation.bootstrap()}
    exec(compile(EXAMPLES[page], str(page), "exec"), scope)
    got = scope["got"]
    assert got is not None and got.headers()["route-region"] == b"europe-west1"
    assert capsys.readouterr().out.startswith(got.event)
