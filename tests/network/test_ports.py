"""Port blocks for a deployment come from below the kernel's ephemeral range, where no outgoing connection
can take one of their ports between the choice and the bind."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from yakuba.network import ports
from yakuba.network.ports import free_port_block, port_range


def test_blocks_lie_below_the_ephemeral_range_of_this_machine() -> None:
    low, high = port_range()
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert (low, high) == (ports.PORT_LOW, max(ephemeral_low, ports.PORT_LOW + 1024))
    for _ in range(20):
        base = free_port_block(100)
        assert low <= base
        assert base + 100 <= high
    with socket.socket() as sock:  # the block is really free
        sock.bind(("127.0.0.1", base + 99))


def test_the_range_follows_the_kernel_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setting = tmp_path / "ip_local_port_range"
    setting.write_text("25000\t60999\n", encoding="ascii")
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", setting)
    assert port_range() == (20000, 25000)
    assert all(base + 50 <= 25000 for base in (free_port_block(50) for _ in range(20)))
    setting.write_text("garbage", encoding="ascii")
    assert port_range() == (20000, ports.DEFAULT_EPHEMERAL_LOW)
    setting.write_text("25000 60999", encoding="ascii")
    with pytest.raises(OSError, match="does not fit"):
        free_port_block(5001)
