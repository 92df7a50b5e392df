"""The routing client README's examples run as written against a real broker, in order, in one scope."""

import gc
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "routing_client" / "README.md"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_routing_client_readme_examples_run(dev_up, capsys):
    plan, emulation = dev_up
    region = "gcp/europe-west1"
    scope = {
        "contract": plan.routing[region].to_dict(),
        "bootstrap": emulation.bootstrap(),
        "config": emulation.client(region),
    }
    examples = _examples()
    assert len(examples) == 3 and "RoutingProducer(" in examples[0]
    try:
        for example in examples:
            exec(compile(example, str(README), "exec"), scope)
    finally:
        # The examples' plain dead-letter Producer is closed here, before the
        # stack may go down, not whenever the garbage collector gets to it.
        got = scope.pop("got", None)
        scope.clear()
        gc.collect()
    assert got is not None and got.headers()["route-region"] == b"europe-west1"
    out = capsys.readouterr().out
    assert out.startswith(got.event) and "\nbilling " in out
