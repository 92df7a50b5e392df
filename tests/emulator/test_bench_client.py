"""Tier 4: `./scripts/bench-client` runs both sides on a real stack and leaves nothing behind (no timing asserted)."""

from __future__ import annotations

import pytest

from emulator import stack
from tools import bench_client


def test_one_short_round_measures_both_sides_each_way_and_takes_its_stack_down(kafka_jars, tmp_path, monkeypatch):
    monkeypatch.setattr(bench_client, "ROOT", tmp_path)
    rows = bench_client.bench("dev", 300, 50, 1, log=lambda m: None)
    assert [(r[0], r[1]) for r in rows] == [("header-routing", "produce"), ("header-routing", "consume")]
    for _, _, raw, routing, ratio, spread, raw_us, routing_us in rows:
        assert float(raw.replace(",", "")) > 0 and float(routing.replace(",", "")) > 0
        assert float(ratio) > 0 and spread == f"{ratio}-{ratio}"
        assert float(raw_us) >= 0 and float(routing_us) >= 0
    assert stack.load("dev", tmp_path) is None and not (tmp_path / "dev").exists()


@pytest.mark.parametrize("args", [["-n", "1"], ["--rounds", "0"]])
def test_too_few_messages_or_rounds_are_refused(args, capsys):
    with pytest.raises(SystemExit) as exited:
        bench_client.main(args)
    assert exited.value.code == 2
    assert "-n must be at least 2 and --rounds at least 1" in capsys.readouterr().err
