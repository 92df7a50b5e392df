"""Kafka tier: the traffic model's bytes against the same traffic on real Kafka (what ./scripts/measure prints)."""

from __future__ import annotations

import pytest

from emulator.measure import log_bytes, model_for
from emulator.traffic import run_traffic

MESSAGES = 1000
# Framing per record varies with how many records share a batch (24 to 66 B
# measured on 250 B records), which the model's single constant cannot follow.
TOLERANCE = 0.25


@pytest.mark.parametrize("running", ["dev_up", "prod_up"])
def test_model_and_emulator_agree_on_bytes_fetched_and_mirrored(running, request):
    plan, emulation = request.getfixturevalue(running)
    before = log_bytes(emulation)
    result = run_traffic(
        plan, emulation.bootstrap(), MESSAGES, clients=emulation.clients(plan), seed=5, rate=1000, timeout=60
    )
    after = log_bytes(emulation)
    assert result.complete
    model = model_for(plan, result, overhead=45)

    def grown(cluster: str, topics) -> int:
        return sum(after.get((cluster, t), 0) - before.get((cluster, t), 0) for t in set(topics))

    for region, contract in plan.routing.items():
        measured = grown(contract.consume_cluster, contract.consume.values())
        assert measured == pytest.approx(model.fetched_by_region[region] * MESSAGES, rel=TOLERANCE), region
        # The wire carries at least the record batches.
        assert result.regions[region].wire_bytes >= measured
    for key, flow in plan.mirrors.items():
        for side in (flow.source, flow.target):
            assert grown(side, flow.topics) == pytest.approx(model.mirrored_by_flow[key] * MESSAGES, rel=TOLERANCE)
