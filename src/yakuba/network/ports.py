"""Finding a free block of loopback ports for a deployment (tests, benchmarks, a second deployment on one host)."""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["free_port_block", "port_range"]

PORT_LOW = 20000
"""Blocks start here: above the well-known and registered ports most services use."""

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_LOW = 32768
"""Linux's default first ephemeral port, where the file above cannot be read."""

ATTEMPTS = 200
"""Random blocks tried before giving up."""


def port_range() -> tuple[int, int]:
    """Where blocks are looked for: from PORT_LOW up to the first port of the range the kernel hands out to
    outgoing connections. A block inside that range is free when it is chosen, but any connection opened
    meanwhile (a role calling its neighbour while the others start) may take one of its ports as its own end,
    and the role that should listen there cannot: "address already in use" at start-up, now and then."""
    try:
        low = int(EPHEMERAL_RANGE_FILE.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        low = DEFAULT_EPHEMERAL_LOW
    return PORT_LOW, max(low, PORT_LOW + 1024)


def free_port_block(size: int, *, host: str = "127.0.0.1") -> int:
    """A base port such that SIZE consecutive ports from it can be bound on HOST right now, all below the
    ephemeral range (see port_range)."""
    rng = random.Random()  # noqa: S311 - spreading port choices, not a secret
    low, high = port_range()
    if size > high - low:
        raise OSError(f"a block of {size} ports does not fit between {low} and {high}")
    for _ in range(ATTEMPTS):
        base = rng.randrange(low, high - size + 1)
        if _all_free(host, range(base, base + size)):
            return base
    raise OSError(f"no block of {size} free ports on {host}")


def _all_free(host: str, ports: range) -> bool:
    held: list[socket.socket] = []
    try:
        for port in ports:
            sock = socket.socket()
            held.append(sock)
            sock.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for sock in held:
            sock.close()
