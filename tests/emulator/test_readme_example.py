"""The README's routing client example runs as written against a real broker."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    section = README.read_text().split("### The routing client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_routing_client_example_runs(dev_up, capsys):
    plan, emulation = dev_up
    region = "gcp/europe-west1"
    scope = {"contract": plan.routing[region].to_dict(), "bootstrap": emulation.bootstrap()}
    exec(compile(_example(), str(README), "exec"), scope)
    got = scope["got"]
    assert got is not None and got.headers()["route-region"] == b"europe-west1"
    assert capsys.readouterr().out.startswith(got.event)
