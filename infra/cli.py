"""Command line entry points behind scripts/ (no Pulumi needed)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

from infra import access, diagram, geo, plandiff, stackfile, traffic
from infra.architectures import build_plan
from infra.config import Config
from infra.kinds import ActiveHub, Architecture
from infra.plan import Plan
from infra.render import plan_text, table
from infra.validation import ConfigError


def cmd_plan(args: argparse.Namespace) -> int:
    cfg = stackfile.load(args.stack)
    plan = build_plan(cfg)
    if args.against is None:
        sys.stdout.write(plan_text(plan))
        return 0
    old = build_plan(stackfile.load_at(args.stack, args.against))
    changes = plandiff.diff(old, plan)
    print(
        table(
            f"Changes to stack {args.stack} since {args.against}",
            ["", "action", "what", "where", "detail"],
            [("!!" if c.at_risk else "", c.action, c.what, c.key, c.detail) for c in changes],
        )
    )
    risky = sum(c.at_risk for c in changes)
    if risky:
        print(f"\n{risky} change(s) marked !! can lose data or replace a cluster holding data.")
        return 3
    return 0


def _plans_of_every_architecture(cfg: Config) -> dict[Architecture, Plan]:
    return {arch: build_plan(dataclasses.replace(cfg, architecture=arch)) for arch in Architecture}


def _standby_cost(plan: Plan, load: traffic.Traffic, prices: dict[str, float]) -> float:
    """What the standby hub adds to a plan's monthly cost: its cluster, replication traffic, flow and links."""
    bare = build_plan(dataclasses.replace(plan.config, standby=None, active_hub=ActiveHub.HUB))
    with_standby = traffic.monthly_cost(plan, traffic.flows(plan, load), prices)
    return with_standby.total - traffic.monthly_cost(bare, traffic.flows(bare, load), prices).total


def _isolation_text(plan: Plan) -> str:
    """How many regions' messages only that region can read (access.readers_by_region)."""
    readers = access.readers_by_region(plan)
    alone = sum(access.isolated(plan, region, keys) for region, keys in readers.items())
    return f"{alone}/{len(readers)}"


class InputError(ValueError):
    """A command-line value that cannot be used; said in one line."""


def _check_load(rate: float, size: int) -> None:
    if not 0 <= rate < math.inf:
        raise InputError(f"--rate {rate}: give messages per second as a finite number, 0 or more")
    if size < 0:
        raise InputError(f"--size {size}: give payload bytes per message, 0 or more")


def cmd_compare(args: argparse.Namespace) -> int:
    _check_load(args.rate, args.size)
    try:
        prices = traffic.load_prices(args.prices)
    except ConfigError as e:
        raise InputError("; ".join(str(p) for p in e.problems)) from None
    cfg = stackfile.load(args.stack)
    plans = _plans_of_every_architecture(cfg)
    load = traffic.Traffic(messages_per_second=args.rate, payload_bytes=args.size)
    clouds = ", ".join(
        f"{sum(r.cloud == c for r in cfg.regions.values())} {c}"
        for c in geo.KINDS
        if c in geo.CLOUDS or any(r.cloud == c for r in cfg.regions.values())
    )
    standby = f", standby hub {cfg.standby.key}" if cfg.standby is not None else ""
    print(
        f"stack {cfg.stack}: {len(cfg.regions)} regions ({clouds}), {len(cfg.events)} events, hub "
        f"{cfg.hub.key}{standby}; load {args.rate:g} msg/s of {args.size} B payload, uniform over sources, "
        f"events and destinations; GB per month of 730 h\n"
    )
    rows, fetched = [], {}
    for arch, plan in plans.items():
        f = traffic.flows(plan, load)
        cost = traffic.monthly_cost(plan, f, prices)

        def gb(kind: str, f: traffic.Flows = f) -> str:
            return f"{f.by_class[kind] * traffic.SECONDS_PER_MONTH / traffic.GB:,.0f}"

        rows.append(
            (
                arch + (" *" if arch == cfg.architecture else ""),
                len(plan.clusters),
                sum(len(t) for t in plan.topics.values()),
                len(plan.mirrors),
                len(plan.links),
                gb(traffic.CROSS_REGION),
                gb(traffic.CROSS_CLOUD),
                gb(traffic.REPLICATION),
                f"{cost.transfer:,.0f}",
                f"{cost.clusters:,.0f}",
                f"{cost.mirrors + cost.links:,.0f}",
                f"{cost.total:,.0f}",
                *((f"{_standby_cost(plan, load, prices):,.0f}",) if cfg.standby is not None else ()),
                _isolation_text(plan),
            )
        )
        fetched[arch] = f
    print(
        table(
            "Architectures (* = the stack's own)",
            [
                "architecture",
                "clusters",
                "topics",
                "mirror flows",
                "links",
                "GB cross-region",
                "GB cross-cloud",
                "GB replication",
                "$ transfer",
                "$ clusters",
                "$ mirrors+links",
                "$ total/month",
                *(("$ of it for the standby",) if cfg.standby is not None else ()),
                "regions isolated",
            ],
            rows,
        )
    )
    print()
    print(
        table(
            "Bytes fetched by each region's consumers, MB/s (useful share in brackets)",
            ["region", *plans],
            [
                (
                    r,
                    *(
                        f"{fetched[a].fetched_by_region[r] / 1e6:.3f} "
                        f"({fetched[a].delivered_by_region[r] / (fetched[a].fetched_by_region[r] or 1):.0%})"
                        for a in plans
                    ),
                )
                for r in cfg.regions
            ],
        )
    )
    print("\nPrices: approximate list prices (see infra/traffic.py DEFAULT_PRICES); override with --prices FILE.")
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    cfg = stackfile.load(args.stack)
    arch = Architecture(args.architecture) if args.architecture else cfg.architecture
    plan = build_plan(dataclasses.replace(cfg, architecture=arch))
    out = args.output or stackfile.ROOT / "build" / f"{args.stack}-{arch}.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(diagram.svg(plan))
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="multicloud-kafka")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="print the plan of a stack file as tables")
    p.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    p.add_argument(
        "--against",
        metavar="GIT_REV",
        help="show what changed since the stack file at this git revision instead; exit 3 if any change can lose data",
    )
    p.set_defaults(run=cmd_plan)
    p = sub.add_parser("compare", help="compare the three architectures for a stack's topology")
    p.add_argument("stack")
    p.add_argument("--rate", type=float, default=1000.0, help="messages per second, all events (1000)")
    p.add_argument("--size", type=int, default=1024, help="payload bytes per message (1024)")
    p.add_argument("--prices", type=Path, help="YAML map of price keys to override")
    p.set_defaults(run=cmd_compare)
    p = sub.add_parser("diagram", help="draw a stack's topology as SVG")
    p.add_argument("stack")
    p.add_argument("--architecture", choices=[a.value for a in Architecture], help="draw another architecture's plan")
    p.add_argument("-o", "--output", type=Path, help="file to write (build/<stack>-<architecture>.svg)")
    p.set_defaults(run=cmd_diagram)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as e:
        print(
            f"error: stack file of '{args.stack}' is not UTF-8 text (byte {e.object[e.start : e.start + 1]!r} "
            f"at offset {e.start}): save it as UTF-8",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
