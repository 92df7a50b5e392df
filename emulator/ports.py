"""Loopback ports: two per emulated cluster (client listener, KRaft controller),
then one per MirrorMaker 2 worker (its REST API)."""

from __future__ import annotations

import errno
import random
import socket
from collections.abc import Iterable, Sequence

HOST = "127.0.0.1"
DEFAULT_BASE = 19092


def layout(cluster_keys: Sequence[str], base: int) -> dict[str, tuple[int, int]]:
    """cluster key -> (broker port, controller port), in plan order from `base`."""
    return {key: (base + 2 * i, base + 2 * i + 1) for i, key in enumerate(cluster_keys)}


def worker_layout(cluster_count: int, targets: Sequence[str], base: int) -> dict[str, int]:
    """mirror target cluster key -> REST port of its Connect worker, after the clusters' ports."""
    return {key: base + 2 * cluster_count + i for i, key in enumerate(targets)}


def needed(cluster_count: int, target_count: int) -> int:
    """How many consecutive ports from the base a plan takes."""
    return 2 * cluster_count + target_count


def check_base(base: int, count: int) -> str | None:
    """Why `base` cannot hold `count` consecutive ports (None if it can)."""
    if 1024 <= base <= 65536 - count:
        return None
    return (
        f"--base-port {base} is out of range: this plan takes {count} consecutive ports from it, so use "
        f"1024 to {65536 - count} (below 1024 needs root)"
    )


def in_use(port: int) -> bool:
    """True if something listens on (or holds) `port`; a port with only TIME_WAIT connections left is free.

    The brokers and workers bind with SO_REUSEADDR, as the probe does, so a
    port left in TIME_WAIT by a process just stopped or killed is one they
    can take again; a listener still refuses the probe's bind.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def busy(ports: Iterable[int]) -> list[int]:
    return [p for p in ports if in_use(p)]


def free_base(count: int, lo: int = 20000, hi: int = 32000, tries: int = 100) -> int:
    """A base port with `count` free ports from it, below Linux's ephemeral range."""
    rng = random.Random()
    for _ in range(tries):
        base = rng.randrange(lo, hi - count)
        if not busy(range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found between {lo} and {hi}")
