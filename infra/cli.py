"""Command line entry points behind scripts/ (no Pulumi needed)."""

from __future__ import annotations

import argparse
import sys

from infra import stackfile
from infra.architectures import build_plan
from infra.config import ConfigError
from infra.render import plan_text


def cmd_plan(args: argparse.Namespace) -> int:
    cfg = stackfile.load(args.stack)
    sys.stdout.write(plan_text(build_plan(cfg)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="multicloud-kafka")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plan", help="print the plan of a stack file as tables")
    p.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    p.set_defaults(run=cmd_plan)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
