"""Benchmark: the whole program under mocks vs the bare SDK registering the same resources.

Run it with `scripts/bench`. Both sides run in this process, alternately, on
the same mocks; the bare side is hand-written straight-line SDK calls over
the region and event lists (no config validation, no plan, no components),
registering exactly the same resource types in the same numbers, which the
benchmark checks before it reports the times.
"""

from __future__ import annotations

import argparse
import collections
import runpy
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from pulumi.runtime.mocks import MockMonitor, Mocks

from tests.support import mocks, stacks
from tools import bench_mixed


class CountingMonitor(MockMonitor):
    """MockMonitor that counts custom resources by type, nothing more."""

    def __init__(self, m: Mocks) -> None:
        super().__init__(m)
        self._lock = threading.Lock()
        self.counts: collections.Counter[str] = collections.Counter()

    def RegisterResource(self, request: Any) -> Any:
        if request.custom:
            with self._lock:
                self.counts[request.type] += 1
        return super().RegisterResource(request)


def ours() -> None:
    runpy.run_path(str(stacks.MAIN))


def timed(program: Callable[[], object], cfg: dict[str, str]) -> tuple[float, float, collections.Counter[str]]:
    """(wall seconds, CPU seconds of this process, custom resources by type) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    monitor, _, _ = mocks.run(program, cfg, "bench", monitor_cls=CountingMonitor)
    return time.perf_counter() - wall, time.process_time() - cpu, monitor.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=12)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, alternating; the median is reported")
    parser.add_argument("--gcp", type=int, default=0, help="GCP spokes beside the AWS regions (mixed-cloud topology)")
    args = parser.parse_args(argv)
    names, gcp_names = stacks.aws_regions(args.regions, bench_mixed.HUB), stacks.gcp_regions(args.gcp)
    cfg = stacks.bench_config(names, gcp_names, args.events)
    sides = {"ours": ours, "bare": bench_mixed.bare(names, gcp_names, args.events)}
    # One untimed run each first: imports and the SDK's first-use caches.
    for program in sides.values():
        timed(program, cfg)
    wall: dict[str, list[float]] = {"ours": [], "bare": []}
    cpu: dict[str, list[float]] = {"ours": [], "bare": []}
    counts: dict[str, collections.Counter[str]] = {}
    for _ in range(args.repeat):
        for side, program in sides.items():
            w, c, counts[side] = timed(program, cfg)
            wall[side].append(w)
            cpu[side].append(c)
    # Providers aside, both sides must register the same resource types in the same numbers.
    if counts["ours"] != counts["bare"]:
        diff = {
            t: (counts["ours"][t], counts["bare"][t])
            for t in counts["ours"] | counts["bare"]
            if counts["ours"][t] != counts["bare"][t]
        }
        print(f"bench: the two sides registered different resources (ours, bare): {diff}", file=sys.stderr)
        return 1
    total = sum(counts["ours"].values())
    where = f"{args.regions} AWS regions" + (f" and {args.gcp} GCP regions" if args.gcp else "")
    print(f"regional-clusters, {where}, {args.events} events: {total} resources per run, same on both sides")
    for t, n in sorted(counts["ours"].items()):
        print(f"  {n:6d}  {t}")
    for label, series in (("CPU", cpu), ("wall", wall)):
        o, b = statistics.median(series["ours"]), statistics.median(series["bare"])
        print(f"{label:4s}  ours {o:6.2f}s  bare SDK {b:6.2f}s  ratio {o / b:.2f}x   (medians of {args.repeat})")
    print("target: ratio <= 1.20x; CPU time is the figure to compare, wall time also counts other processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
