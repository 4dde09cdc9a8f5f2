"""Finding a free block of loopback ports for a deployment (tests, benchmarks, a second deployment on one host)."""

from __future__ import annotations

import random
import socket

__all__ = ["PORT_RANGE", "free_port_block"]

PORT_RANGE = (20000, 60000)
"""Where blocks are looked for: above the well-known and registered ports most services use, below the
ephemeral range Linux hands out to outgoing connections."""

ATTEMPTS = 200
"""Random blocks tried before giving up."""


def free_port_block(size: int, *, host: str = "127.0.0.1") -> int:
    """A base port such that SIZE consecutive ports from it can be bound on HOST right now."""
    rng = random.Random()  # noqa: S311 - spreading port choices, not a secret
    low, high = PORT_RANGE
    for _ in range(ATTEMPTS):
        base = rng.randrange(low, high - size)
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
