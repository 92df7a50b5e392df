"""`scripts/emulator up|down|status|restart <stack>`: a stack's plan on local Kafka."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from emulator import connect, failover, lag, ports, stack
from emulator.errors import EmulatorError
from emulator.topics import clamp_note, emulated_topics
from infra import stackfile
from infra.architectures import build_plan
from infra.plan import Plan
from infra.render import table
from infra.validation import ConfigError


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that what it started is stopped on the way out."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def on_sigterm_clean_up() -> None:
    """SIGTERM unwinds like Ctrl-C does: `finally` blocks and `up`'s own cleanup run."""
    signal.signal(signal.SIGTERM, _terminate)


def plan_for(arg: str) -> Plan:
    """The plan of a stack name (stacks/Pulumi.<name>.yaml) or of a stack file path."""
    path = Path(arg) if arg.endswith((".yaml", ".yml")) or "/" in arg else stackfile.stack_path(arg)
    name = path.stem.removeprefix("Pulumi.")
    try:
        return build_plan(stackfile.load(name, path))
    except UnicodeDecodeError as e:
        raise EmulatorError(
            f"stack file {path} is not UTF-8 text (byte {e.object[e.start : e.start + 1]!r} at "
            f"offset {e.start}): save it as UTF-8"
        ) from None
    except IsADirectoryError:
        raise EmulatorError(f"stack file {path} is a directory; name a stack or a Pulumi.<stack>.yaml file") from None


def describe(plan: Plan, emulation: stack.Emulation) -> str:
    alive = emulation.alive()
    rows = []
    for key, c in emulation.clusters.items():
        present = stack.topics_on(c.bootstrap, emulation.admin()) if alive[key] else None
        planned = plan.topics.get(key, {})
        topics = f"{len(present & set(planned))}/{len(planned)}" if present is not None else "-"
        rows.append((key, c.name, c.bootstrap, c.pid, "running" if alive[key] else "stopped", topics))
    failed_over = failover.state(emulation.stack).get("active")
    parts = [
        f"stack {emulation.stack}: architecture {emulation.architecture}"
        + (f"; failed over: {failed_over} is the active hub" if failed_over else ""),
        table("Emulated clusters", ["cluster", "name", "bootstrap", "pid", "state", "planned topics"], rows),
    ]
    note = clamp_note(emulated_topics(plan))
    if note:
        parts.append(note)
    if emulation.workers:
        parts.insert(2, mirroring_table(plan, emulation))
    if all(alive.values()):
        parts += lag_tables(plan, emulation)
    return "\n\n".join(parts) + "\n"


def lag_tables(plan: Plan, emulation: stack.Emulation) -> list[str]:
    """Consumer lag per region and group, and mirror lag per flow, as the brokers report them now."""
    bootstrap = emulation.bootstrap()
    groups = lag.consumer_lag(plan, bootstrap, emulation.admin())
    out = [
        table(
            "Consumer lag (end of each partition minus the group's committed position)",
            ["region", "cluster", "group", "partitions", "lag"],
            [(g.region, g.cluster, g.group, len(g.partitions), g.total) for g in groups],
        )
    ]
    if plan.mirrors:
        out.append(
            table(
                "Mirror lag (messages on the source not yet on the target)",
                ["flow", "topics", "lag"],
                [(m.flow, len(m.topics), m.total) for m in lag.mirror_lag(plan, bootstrap, emulation.admin())],
            )
        )
    return out


def connector_states(emulation: stack.Emulation) -> dict[str, dict]:
    """Connector name -> its state as the worker reports it ({} for a worker that does not answer)."""
    out: dict[str, dict] = {}
    for _key, w in emulation.workers.items():
        with contextlib.suppress(OSError, ValueError):
            out.update(connect.status(w.url))
    return out


def mirroring_table(plan: Plan, emulation: stack.Emulation) -> str:
    alive = emulation.workers_alive()
    states = connector_states(emulation)
    rows = []
    for key, w in emulation.workers.items():
        for name in w.connectors:
            s = states.get(name)
            tasks = ", ".join(s["tasks"]) if s and s["tasks"] else "-"
            rows.append(
                (
                    key,
                    f"{w.pid} {'running' if alive[key] else 'stopped'}",
                    w.url,
                    name,
                    s["state"] if s else "unknown",
                    tasks,
                )
            )
    flows = ", ".join(f"{f.source} -> {f.target} ({len(f.topics)} topics)" for f in plan.mirrors.values())
    return table(
        f"MirrorMaker 2 (Kafka Connect, one worker per target, connectors from infra.mirrormaker): {flows}",
        ["into", "worker pid", "REST", "connector", "state", "tasks"],
        rows,
    ) + (
        "\na checkpoint connector has no task until the source has a consumer group"
        if any(s and not s["tasks"] for s in states.values())
        else ""
    )


def cmd_up(args: argparse.Namespace) -> int:
    plan = plan_for(args.stack)
    emulation = stack.up(plan, base_port=args.base_port, log=lambda m: print(m, file=sys.stderr))
    sys.stdout.write(describe(plan, emulation))
    print(f"\nstop it with: ./scripts/emulator down {plan.config.stack}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    name = plan_for(args.stack).config.stack if args.stack.endswith((".yaml", ".yml")) else args.stack
    if stack.down(name, log=lambda m: print(m, file=sys.stderr)):
        print(f"stack '{name}' stopped")
    else:
        print(f"stack '{name}' was not running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    plan = plan_for(args.stack)
    emulation = stack.load(plan.config.stack)
    if emulation is None or not any(emulation.alive().values()):
        print(f"stack '{plan.config.stack}' is not up on the emulator", file=sys.stderr)
        return 1
    if args.json:
        states = connector_states(emulation)
        mirroring = {}
        for key, w in emulation.workers.items():
            for name in w.connectors:
                s = states.get(name, {"state": "unknown", "tasks": []})
                mirroring[name] = {"into": key, "worker": w.url, "state": s["state"], "tasks": s["tasks"]}
        # What a service needs: the routing client takes routing[region] and bootstrap.
        doc: dict[str, Any] = {
            "architecture": plan.architecture,
            "bootstrap": emulation.bootstrap(),
            "routing": {r: c.to_dict() for r, c in plan.routing.items()},
            "mirroring": mirroring,
        }
        if all(emulation.alive().values()):
            bootstrap = emulation.bootstrap()
            doc["consumerLag"] = [
                {"region": g.region, "cluster": g.cluster, "group": g.group, "lag": g.total}
                for g in lag.consumer_lag(plan, bootstrap, emulation.admin())
            ]
            doc["mirrorLag"] = {m.flow: m.total for m in lag.mirror_lag(plan, bootstrap, emulation.admin())}
        print(json.dumps(doc, indent=2))
    else:
        sys.stdout.write(describe(plan, emulation))
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    """Each region's client settings (its own SASL/SCRAM login), as JSON: the routing client's `config`."""
    plan = plan_for(args.stack)
    emulation = stack.load(plan.config.stack)
    if emulation is None:
        print(f"stack '{plan.config.stack}' is not up on the emulator", file=sys.stderr)
        return 1
    regions = args.region or list(plan.config.regions)
    unknown = [r for r in regions if r not in plan.config.regions]
    if unknown:
        raise EmulatorError(
            f"stack '{plan.config.stack}' has no region {', '.join(unknown)}; its regions: {', '.join(plan.config.regions)}"
        )
    print(json.dumps({r: emulation.client(r) for r in regions}, indent=2))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """`status`, redrawn every `--interval` seconds until Ctrl-C or `--count` redraws."""
    plan = plan_for(args.stack)
    if not 0.2 <= args.interval <= 3600 or args.count < 0:
        raise EmulatorError(
            f"--interval {args.interval} --count {args.count}: give 0.2 to 3600 seconds and a "
            "count of 0 (until Ctrl-C) or more"
        )
    shown = 0
    try:
        while args.count == 0 or shown < args.count:
            emulation = stack.load(plan.config.stack)
            if emulation is None or not any(emulation.alive().values()):
                print(f"stack '{plan.config.stack}' is not up on the emulator", file=sys.stderr)
                return 1
            text = describe(plan, emulation)
            # Clear the terminal and draw from the top, as `watch` does.
            sys.stdout.write(("\x1b[H\x1b[2J" if sys.stdout.isatty() else "") + time.strftime("%H:%M:%S ") + text)
            sys.stdout.flush()
            shown += 1
            if args.count == 0 or shown < args.count:
                time.sleep(args.interval)
    except KeyboardInterrupt:
        print()
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    name = plan_for(args.stack).config.stack
    if not 0 <= args.down < math.inf:
        raise EmulatorError(f"--down {args.down}: give the seconds the broker stays down, a finite number, 0 or more")
    stack.restart_broker(name, args.cluster, kill=args.kill, down_s=args.down, log=lambda m: print(m, file=sys.stderr))
    print(f"the broker of {args.cluster} in stack '{name}' is up again on its data")
    return 0


def main(argv: list[str] | None = None) -> int:
    on_sigterm_clean_up()
    parser = argparse.ArgumentParser(prog="scripts/emulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "up",
        help="start one Kafka broker per planned cluster, create the planned topics, "
        "run MirrorMaker 2 for the planned mirror flows",
    )
    p.add_argument("stack", help="stack name (stacks/Pulumi.<stack>.yaml) or path to a stack file")
    p.add_argument(
        "--base-port",
        type=int,
        default=ports.DEFAULT_BASE,
        help=f"first loopback port; each cluster takes two, each mirror target one more (default {ports.DEFAULT_BASE})",
    )
    p.set_defaults(run=cmd_up)
    p = sub.add_parser(
        "down", help="stop the stack's MirrorMaker 2 workers and brokers (SIGTERM, then SIGKILL after a grace period)"
    )
    p.add_argument("stack")
    p.set_defaults(run=cmd_down)
    p = sub.add_parser("status", help="what runs, where, how many planned topics exist, consumer and mirror lag")
    p.add_argument("stack")
    p.add_argument(
        "--json", action="store_true", help="print bootstrap addresses, routing contracts and connector states as JSON"
    )
    p.set_defaults(run=cmd_status)
    p = sub.add_parser(
        "credentials",
        help="each region's own login (SASL/SCRAM client settings) as JSON; the emulator makes them at `up`",
    )
    p.add_argument("stack")
    p.add_argument("region", nargs="*", help="region keys (default: every region)")
    p.set_defaults(run=cmd_credentials)
    p = sub.add_parser("watch", help="`status` with consumer and mirror lag, redrawn live until Ctrl-C")
    p.add_argument("stack")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between redraws (default 2)")
    p.add_argument("--count", type=int, default=0, help="stop after this many redraws (default 0: until Ctrl-C)")
    p.set_defaults(run=cmd_watch)
    p = sub.add_parser(
        "restart",
        help="stop one cluster's broker if it runs and start it again on its data "
        "(a fault drill: --kill, --down SECONDS)",
    )
    p.add_argument("stack")
    p.add_argument("cluster", help="cluster key, as `status` lists them (e.g. aws/us-east-1)")
    p.add_argument("--kill", action="store_true", help="SIGKILL instead of a clean stop")
    p.add_argument("--down", type=float, default=0, metavar="SECONDS", help="seconds to stay down (default 0)")
    p.set_defaults(run=cmd_restart)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except EmulatorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
