"""`./scripts/bench-emulator`: the emulator's figures on this machine.

Brings the prod plan up (time to every broker ready with its topics and every
MirrorMaker 2 connector running, resident memory of all brokers and workers),
then for dev (header-routing), staging (topic-per-region) and prod
(regional-clusters) runs demo traffic twice on a fresh stack each time: as
fast as the producer can (throughput) and paced (latency without queueing;
for prod also the mirror lag). Stacks run on free ports under
.emulator/bench/, never touching a running stack.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emulator import jars, ports, stack
from emulator.cli import plan_for
from emulator.errors import EmulatorError
from emulator.traffic import TrafficResult, quantile, run_traffic
from infra.plan import Plan
from infra.render import table

ROOT = stack.DATA / "bench"
SETTLE_S = 5
# The emulator's budget for the prod plan on a laptop.
UP_BUDGET_S = 60
RSS_BUDGET_MIB = 4096


def rss_mib(emulation: stack.Emulation) -> float:
    """Resident memory of all the stack's JVMs (brokers and MirrorMaker 2 workers), in MiB."""
    total_kib = 0
    for pid in emulation.pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return total_kib / 1024


def _up(name: str) -> tuple[Plan, stack.Emulation, float]:
    plan = plan_for(name)
    base = ports.free_base(stack.ports_needed(plan))
    t0 = time.monotonic()
    emulation = stack.up(plan, base_port=base, root=ROOT, log=lambda m: None)
    return plan, emulation, time.monotonic() - t0


def bring_up(name: str, log) -> list:
    plan, emulation, seconds = _up(name)
    try:
        rss_ready = rss_mib(emulation)
        time.sleep(SETTLE_S)
        rss_settled = rss_mib(emulation)
    finally:
        t0 = time.monotonic()
        stack.down(plan.config.stack, root=ROOT, log=log)
        stop_s = time.monotonic() - t0
    log(f"{name}: {len(plan.clusters)} clusters up in {seconds:.1f} s")
    rss = max(rss_ready, rss_settled)
    within = seconds < UP_BUDGET_S and rss < RSS_BUDGET_MIB
    log(
        f"budget: up {seconds:.1f} s (< {UP_BUDGET_S} s), RSS {rss:.0f} MiB (< {RSS_BUDGET_MIB} MiB): "
        + ("within" if within else "EXCEEDED")
    )
    return [
        name,
        plan.architecture,
        len(plan.clusters),
        len(emulation.workers),
        f"{seconds:.1f}",
        f"{rss:.0f}",
        f"{stop_s:.1f}",
    ]


def traffic(name: str, messages: int, rate: float, log) -> tuple[str, TrafficResult, float]:
    plan, emulation, _ = _up(name)
    try:
        result = run_traffic(
            plan,
            emulation.bootstrap(),
            messages,
            clients=emulation.clients(plan),
            seed=1,
            rate=rate,
            timeout=120,
            progress=lambda line: None,
        )
        rss = rss_mib(emulation)
    finally:
        stack.down(plan.config.stack, root=ROOT, log=log)
    if not result.ok:
        raise EmulatorError(f"{name}: traffic incomplete or misrouted; see ./scripts/demo {name}")
    mode = f"{rate:g} msg/s" if rate else "max"
    log(f"{name}, {mode}: {result.throughput:,.0f} msg/s, p50 {_q(result, 0.5)} ms, p99 {_q(result, 0.99)} ms")
    return plan.architecture, result, rss


def _q(result: TrafficResult, q: float) -> str:
    """The q-quantile of latency over all regions' messages, in ms."""
    return f"{quantile([v for r in result.regions.values() for v in r.latencies_ms], q):.1f}"


def _mirror_q(result: TrafficResult, q: float) -> str:
    """The q-quantile of mirror lag over all mirrored regions' messages, in ms; - without mirroring."""
    value = quantile([v for r in result.regions.values() for v in r.mirror_lags_ms], q)
    return "-" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench-emulator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--messages", type=int, default=20000, help="messages per throughput run (default 20000)")
    parser.add_argument("--rate", type=float, default=1000, help="pace of the latency runs, msg/s (default 1000)")
    parser.add_argument("--latency-messages", type=int, default=10000, help="messages per latency run (default 10000)")
    args = parser.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr, flush=True)
    try:
        jars.ensure(log)
        up_rows = [bring_up("prod", log)]
        traffic_rows, region_rows = [], []
        for name in ("dev", "staging", "prod"):
            architecture, burst, rss = traffic(name, args.messages, 0, log)
            _, paced, _ = traffic(name, args.latency_messages, args.rate, log)
            traffic_rows.append(
                [
                    name,
                    architecture,
                    f"{burst.throughput:,.0f}",
                    _q(burst, 0.5),
                    _q(burst, 0.99),
                    f"{args.rate:g}",
                    _q(paced, 0.5),
                    _q(paced, 0.99),
                    _mirror_q(paced, 0.5),
                    _mirror_q(paced, 0.99),
                    f"{rss:.0f}",
                ]
            )
            for r in burst.regions.values():
                region_rows.append(
                    [
                        name,
                        r.region,
                        r.addressed,
                        r.received,
                        r.ignored,
                        f"{r.fetched_bytes:,}",
                        f"{r.fetched_bytes / burst.messages:.0f}",
                    ]
                )
    except EmulatorError as e:
        log(f"error: {e}")
        return 1
    print(
        table(
            "Bring-up (format, start, ready, topics created, MirrorMaker 2 connectors running)",
            ["stack", "architecture", "clusters", "mirror workers", "up s", "RSS MiB (brokers + workers)", "stop s"],
            up_rows,
        )
    )
    print()
    print(
        table(
            f"Traffic: {args.messages} messages as fast as possible, then {args.latency_messages} paced "
            "(mirror: hub acknowledgment to receipt from the region's own cluster)",
            [
                "stack",
                "architecture",
                "max msg/s",
                "p50 ms",
                "p99 ms",
                "paced msg/s",
                "p50 ms",
                "p99 ms",
                "mirror p50 ms",
                "mirror p99 ms",
                "RSS MiB",
            ],
            traffic_rows,
        )
    )
    print()
    print(
        table(
            f"Bytes fetched per region ({args.messages} messages of 200 B)",
            ["stack", "region", "addressed", "received", "ignored", "bytes fetched", "per message sent"],
            region_rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
