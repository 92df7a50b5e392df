"""`./scripts/demo <stack>`: a stack's plan on local Kafka, with traffic through it.

Brings the stack up on the emulator (or uses it if `scripts/emulator up`
already did), MirrorMaker 2 included, runs one producer and one consumer per
region with the routing client, sends messages addressed to random regions
and prints, per region, what arrived where, the latency, the mirror lag and
the bytes each region fetched. Stops what it started unless --keep.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from emulator import failover, ports, stack
from emulator.cli import Terminated, on_sigterm_clean_up, plan_for
from emulator.errors import EmulatorError
from emulator.topics import clamp_note, emulated_topics
from emulator.traffic import MAX_SIZE, PRODUCER_MESSAGE_MAX_BYTES, HubKill, TrafficResult, run_ids_on, run_traffic
from infra.plan import Plan
from infra.render import table
from infra.validation import ConfigError


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report_text(plan: Plan, result: TrafficResult) -> str:
    mirrored = any(r.mirrored for r in result.regions.values())
    rows = [
        (
            r.region,
            r.addressed,
            r.received,
            r.ignored,
            r.duplicates,
            r.misrouted,
            r.lost,
            f"{r.fetched_bytes:,}",
            _ms(r.latency(0.5)),
            _ms(r.latency(0.99)),
            *((_ms(r.mirror_lag(0.5)), _ms(r.mirror_lag(0.99))) if mirrored else ()),
        )
        for r in result.regions.values()
    ]
    title = (
        f"Per region: stack {plan.config.stack}, {plan.architecture}, "
        f"{result.messages} messages of {result.size} B from {result.producer_region}, "
        + (f"{result.rate:g} msg/s" if result.rate else "as fast as possible")
    )
    header = [
        "region",
        "addressed",
        "received",
        "ignored",
        "duplicates",
        "misrouted",
        "lost",
        "bytes fetched",
        "p50 ms",
        "p99 ms",
        *(("mirror p50 ms", "mirror p99 ms") if mirrored else ()),
    ]
    lines = [table(title, header, rows), ""]
    if result.kill is not None:
        lines += [*kill_lines(result), ""]
    if result.complete:
        lines.append(
            f"all {result.messages} delivered in {result.total_s:.2f} s: {result.throughput:,.0f} msg/s end to end "
            f"(producer done in {result.send_s:.2f} s)"
        )
    else:
        lines.append(f"INCOMPLETE: not every message arrived within the wait ({result.total_s:.1f} s)")
    if result.delivery_failures:
        lines.append(f"{result.delivery_failures} messages were not acknowledged by Kafka")
    unroutable = {r.region: r.unroutable for r in result.regions.values() if r.unroutable}
    if unroutable:
        lines.append(
            "unroutable (route headers naming no region of the stack, from another producer): "
            + ", ".join(f"{region} {n}" for region, n in unroutable.items())
        )
    stale = sum(r.stale for r in result.regions.values())
    if stale:
        lines.append(
            f"{stale} messages of another demo run on the same stack were read and left out of the counts "
            "(but not of ignored and bytes fetched)"
        )
    note = clamp_note(emulated_topics(plan))
    if note:
        lines.append(note)
    lines.append(
        "ignored: fetched from Kafka but addressed to another region (header filter); "
        "bytes fetched: key and value bytes of the messages the region's consumer pulled, kept or not"
    )
    if mirrored:
        lines.append(
            "p50/p99: send to receipt; mirror: from the hub's acknowledgment to receipt from the "
            "region's own cluster, through MirrorMaker 2 (- for the hub's region, which reads the hub)"
        )
    return "\n".join(lines) + "\n"


def kill_lines(result: TrafficResult) -> list[str]:
    kill = result.kill
    assert kill is not None
    rto = kill.rto_s(result.regions)
    return [
        f"hub killed (SIGKILL) at message {kill.at}; producer on the standby after "
        + (f"{kill.producer_failover_s:.1f} s" if kill.producer_failover_s is not None else "- (never)")
        + "; mirror flows re-pointed after "
        + (f"{kill.repointed_s:.1f} s" if kill.repointed_s is not None else "- (never)"),
        "RTO "
        + (f"{rto:.1f} s" if rto is not None else "- (a region received nothing sent after the kill)")
        + ": from the kill until every region received a message sent after it",
        f"RPO {len(kill.unreplicated)} messages: acknowledged by the hub, never on the standby "
        f"(replication lag at the kill: {kill.lag_at_kill} messages); of {len(kill.acked_before)} acknowledged "
        "before the kill",
        f"resent by the producer to the standby: {kill.resent} (the hub had not acknowledged them); "
        f"handed out again by the consumers after failover: {kill.consumer_duplicates}",
        "lost counts what the hub acknowledged and replicated before the kill, and everything after; "
        "duplicates are expected after a failover",
    ]


def _hub_kill(plan: Plan, emulation: stack.Emulation, messages: int, log, root: Path = stack.DATA) -> HubKill:
    """Kills the hub's broker a quarter of the way through `messages`; fails the emulator over after the producer."""
    pair = failover.hubs(plan)
    name = plan.config.stack
    bootstrap = emulation.bootstrap()
    if failover.state(name, root).get("active"):
        raise EmulatorError(
            f"stack '{name}' has already failed over to its standby: bring it down and up again to kill its hub"
        )

    def kill() -> dict[tuple[str, int], int]:
        stack.stop_process(name, pair.hub, worker=False, kill=True, root=root)
        return failover.ends(bootstrap[pair.standby], emulation.admin(), pair.forward.topics)

    return HubKill(
        at=messages // 4,
        kill=kill,
        fail_over=lambda at_ms: failover.fail_over(plan, emulation, at_ms, root=root, log=log),
        standby_ids=lambda run: run_ids_on(bootstrap[pair.standby], emulation.admin(), list(pair.forward.topics), run),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("stack", help="stack name (stacks/Pulumi.<stack>.yaml) or path to a stack file")
    parser.add_argument("-n", "--messages", type=int, default=2000, help="messages to send (default 2000)")
    parser.add_argument("--size", type=int, default=200, help="payload bytes per message (default 200)")
    parser.add_argument(
        "--rate",
        type=float,
        default=1000,
        help="messages per second the producer sends; 0: as fast as it can (default 1000)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for the random destinations")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for every message (default 60)")
    parser.add_argument("--keep", action="store_true", help="leave the stack running afterwards")
    parser.add_argument(
        "--kill-hub",
        action="store_true",
        help="SIGKILL the hub's broker a quarter of the way through: the clients fail over to the standby hub; "
        "prints RPO and RTO (a stack with multicloud-kafka:standbyHub)",
    )
    parser.add_argument(
        "--base-port",
        type=int,
        default=ports.DEFAULT_BASE,
        help=f"first loopback port if the demo starts the stack (default {ports.DEFAULT_BASE})",
    )
    args = parser.parse_args(argv)
    err = lambda m: print(m, file=sys.stderr, flush=True)
    problem = _bad_arguments(args)
    if problem:
        err(f"error: {problem}")
        return 2
    on_sigterm_clean_up()
    # True only once this run has brought the stack up: a stack it found is never stopped.
    started = False
    try:
        plan = plan_for(args.stack)
        name = plan.config.stack
        running = stack.load(name)
        try:
            if running is not None and any(running.alive().values()):
                if not all(running.alive().values()) or not all(running.workers_alive().values()):
                    raise EmulatorError(_partly_up(name, running))
                emulation = running
                err(f"using stack '{name}', already up on the emulator")
            else:
                err(f"bringing stack '{name}' ({plan.architecture}) up on the emulator ...")
                emulation = stack.up(plan, base_port=args.base_port, log=err)
                started = True
            err(
                f"sending {args.messages} messages to random regions"
                + (f" at {args.rate:g} msg/s ..." if args.rate else " as fast as possible ...")
            )
            t0 = time.monotonic()
            kill = _hub_kill(plan, emulation, args.messages, err) if args.kill_hub else None
            result = run_traffic(
                plan,
                emulation.bootstrap(),
                args.messages,
                clients=emulation.clients(plan),
                seed=args.seed,
                size=args.size,
                rate=args.rate,
                timeout=args.timeout,
                progress=err,
                kill=kill,
            )
            err(f"done in {time.monotonic() - t0:.1f} s")
        finally:
            if started and not args.keep:
                err(f"stopping stack '{name}' ...")
                stack.down(name, log=err)
        sys.stdout.write(report_text(plan, result))
        if args.keep:
            print(f"\nstack '{name}' left running: ./scripts/emulator status {name}; ./scripts/emulator down {name}")
        return 0 if result.ok else 1
    except ConfigError as e:
        err(f"error: {e}")
        return 2
    except EmulatorError as e:
        err(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except Terminated:
        err("terminated")
        return 143


def _bad_arguments(args: argparse.Namespace) -> str | None:
    if args.messages < 1:
        return f"--messages {args.messages}: send at least 1"
    if not 0 <= args.rate < float("inf"):
        return f"--rate {args.rate}: give messages per second, 0 or more (0: as fast as possible)"
    if not 1 <= args.size <= MAX_SIZE:
        return (
            f"--size {args.size} is outside what the demo can send through the emulated brokers: use 1 to "
            f"{MAX_SIZE} (1,000,000 B per message, less {PRODUCER_MESSAGE_MAX_BYTES - MAX_SIZE} B of JSON, "
            "key and headers)"
        )
    if not 0 < args.timeout < float("inf"):
        return f"--timeout {args.timeout}: give seconds to wait, above 0"
    return ports.check_base(args.base_port, 2)


def _partly_up(name: str, running: stack.Emulation) -> str:
    down = [f"the broker of {k}" for k, alive in running.alive().items() if not alive]
    down += [f"the MirrorMaker 2 worker into {k}" for k, alive in running.workers_alive().items() if not alive]
    restart = "; ".join(f"./scripts/emulator restart {name} {k}" for k, alive in running.alive().items() if not alive)
    return (
        f"stack '{name}' is only partly up ({', '.join(down)} not running), and this demo did not start it, so it "
        f"leaves it as it is: restart what stopped ({restart or 'or bring the stack down and up again'}), "
        f"or stop it with ./scripts/emulator down {name}"
    )


if __name__ == "__main__":
    sys.exit(main())
