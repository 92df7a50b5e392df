"""`./scripts/measure`: the traffic model's bytes against the same traffic on real Kafka.

For each stack (dev, staging, prod by default: one per architecture) on a
fresh emulation: demo traffic from the hub, then per region the bytes its
consumer pulled, against `infra.traffic.flows` for the same messages (same
destinations, same key and value sizes); for each mirror flow, the bytes
MirrorMaker 2 copied, against the model's mirrored bytes.

What is counted. The model counts records: key and value (its payload), the
route headers and a fixed `record_overhead_bytes` of framing per record. The
same thing measured is the record batches the region's consumer fetched: the
growth, during the run, of the log segments of the topics it reads on the
cluster it reads (each batch appended is fetched once by each consumer of the
topic), with their real framing. The wire column adds what else came over the
consumer's broker connections (librdkafka's bytes received: fetch-response
framing, metadata): at a few hundred messages per second over a dozen
partitions each fetch response carries about one record per partition, so
that framing is as large as the records; it shrinks as fetches fill up.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from emulator import jars, ports, stack
from emulator.cli import plan_for
from emulator.errors import EmulatorError
from emulator.traffic import TrafficResult, run_traffic
from infra import traffic
from infra.plan import Plan
from infra.render import table

ROOT = stack.DATA / "measure"


def log_bytes(emulation: stack.Emulation) -> dict[tuple[str, str], int]:
    """(cluster key, topic) -> bytes of its log segments on disk."""
    out: Counter = Counter()
    for key, c in emulation.clusters.items():
        for part in (Path(c.dir) / "data").iterdir():
            topic = part.name.rsplit("-", 1)[0]
            if part.is_dir() and not topic.startswith("__"):
                out[(key, topic)] += sum(f.stat().st_size for f in part.glob("*.log"))
    return dict(out)


def model_for(plan: Plan, result: TrafficResult, overhead: int) -> traffic.Flows:
    """The model's flows for exactly the messages sent: from the hub, to the regions they were addressed to."""
    load = traffic.Traffic(
        messages_per_second=1.0,
        payload_bytes=result.key_value_bytes / result.messages,
        record_overhead_bytes=overhead,
        sources={plan.config.hub.key: 1.0},
        destinations={r: float(x.addressed) for r, x in result.regions.items()},
    )
    return traffic.flows(plan, load)


def _diff(model: float, measured: float) -> str:
    return f"{(measured - model) / model:+.1%}" if model else "-"


def measure(name: str, messages: int, rate: float, overhead: int, log) -> tuple[list, list]:
    plan = plan_for(name)
    emulation = stack.up(plan, base_port=ports.free_base(stack.ports_needed(plan)), root=ROOT, log=lambda m: None)
    try:
        before = log_bytes(emulation)
        result = run_traffic(
            plan, emulation.bootstrap(), messages, clients=emulation.clients(plan), seed=7, rate=rate, timeout=120
        )
        after = log_bytes(emulation)
    finally:
        stack.down(plan.config.stack, root=ROOT, log=log)
    if not result.complete:
        raise EmulatorError(f"{name}: not every message arrived; see ./scripts/demo {name}")
    log(f"{name}: {messages} messages, {result.throughput:,.0f} msg/s")
    per_message = model_for(plan, result, overhead)
    bare = model_for(plan, result, 0)
    rows = []
    for region, r in result.regions.items():
        fetched = r.received + r.ignored
        contract = plan.routing[region]
        records = sum(
            after.get((contract.consume_cluster, t), 0) - before.get((contract.consume_cluster, t), 0)
            for t in set(contract.consume.values())
        )
        model = per_message.fetched_by_region[region] * messages
        framing = (records - bare.fetched_by_region[region] * messages) / fetched if fetched else 0
        protocol = (r.wire_bytes - records) / fetched if fetched else 0
        rows.append(
            [
                name,
                plan.architecture,
                region,
                fetched,
                f"{model:,.0f}",
                f"{records:,}",
                _diff(model, records),
                f"{framing:.0f}",
                f"{r.wire_bytes:,}",
                f"{protocol:.0f}",
            ]
        )
    mirror_rows = []
    for flow in plan.mirrors.values():
        grown = {
            side: sum(after.get((side, t), 0) - before.get((side, t), 0) for t in flow.topics)
            for side in (flow.source, flow.target)
        }
        model = per_message.mirrored_by_flow[flow.key] * messages
        mirror_rows.append(
            [
                name,
                f"{flow.source} -> {flow.target}",
                f"{model:,.0f}",
                f"{grown[flow.source]:,}",
                _diff(model, grown[flow.source]),
                f"{grown[flow.target]:,}",
                _diff(model, grown[flow.target]),
            ]
        )
    return rows, mirror_rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/measure", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stacks", nargs="*", default=["dev", "staging", "prod"], help="stacks (dev staging prod)")
    parser.add_argument("-n", "--messages", type=int, default=5000, help="messages per stack (default 5000)")
    parser.add_argument("--rate", type=float, default=1000, help="messages per second (default 1000)")
    parser.add_argument(
        "--overhead",
        type=int,
        default=traffic.Traffic.record_overhead_bytes,
        help=f"the model's framing bytes per record (default {traffic.Traffic.record_overhead_bytes}, infra.traffic's)",
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rate < 0:
        parser.error("--messages must be at least 1, --rate at least 0")
    log = lambda m: print(m, file=sys.stderr, flush=True)
    rows, mirror_rows = [], []
    try:
        jars.ensure(log)
        for name in args.stacks:
            r, m = measure(name, args.messages, args.rate, args.overhead, log)
            rows += r
            mirror_rows += m
    except EmulatorError as e:
        log(f"error: {e}")
        return 1
    print(
        table(
            f"Bytes each region's consumer pulled: model (framing {args.overhead} B per record) vs measured; "
            f"{args.messages} demo messages from the hub at {args.rate:g} msg/s",
            [
                "stack",
                "architecture",
                "region",
                "records",
                "model B",
                "measured B",
                "diff",
                "framing B/record",
                "wire B",
                "+protocol B/record",
            ],
            rows,
        )
    )
    if mirror_rows:
        print()
        print(
            table(
                "Bytes mirrored (MirrorMaker 2): model vs log segments of the flow's topics on each side",
                ["stack", "flow", "model B", "on the hub B", "diff", "on the target B", "diff"],
                mirror_rows,
            )
        )
    print(
        "\nmodel: infra.traffic.flows for the same messages (key+value as payload, route headers, "
        f"{args.overhead} B framing per record)\n"
        "measured: record batches the region's consumer fetched (log segment growth of the topics it reads); "
        "framing: what the batches held per record beyond key, value and headers\n"
        "wire: bytes librdkafka received on the consumer's broker connections; +protocol: fetch-response "
        "framing and metadata per record on top of the batches"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
