"""Loopback ports: two per emulated cluster (client listener, KRaft controller)."""

from __future__ import annotations

import errno
import random
import socket
from typing import Iterable, Sequence

HOST = "127.0.0.1"
DEFAULT_BASE = 19092


def layout(cluster_keys: Sequence[str], base: int) -> dict[str, tuple[int, int]]:
    """cluster key -> (broker port, controller port), in plan order from `base`."""
    return {key: (base + 2 * i, base + 2 * i + 1) for i, key in enumerate(cluster_keys)}


def in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
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
