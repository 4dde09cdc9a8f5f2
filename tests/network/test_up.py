"""`yakuba up` starts every role as its own process, waits until all are healthy, and Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from yakuba.config import SAMPLE_PORTS
from yakuba.network.ports import free_port_block

UP_TIMEOUT_S = 120
"""How long the test waits for every role to come up (each process imports and loads its keys)."""


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return found


def _launch_up(tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    """`yakuba init` on a free block of ports, then `yakuba up` with OPTIONS, its output on one pipe."""
    base = free_port_block(SAMPLE_PORTS)
    folder = tmp_path / "dep"
    made = subprocess.run(
        [sys.executable, "-m", "yakuba", "init", str(folder), "--base-port", str(base)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    return subprocess.Popen(
        [sys.executable, "-m", "yakuba", "up", str(folder), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def _start_up(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    """`yakuba init` and `yakuba up` on a free block of ports; returns the process once every role is up."""
    up = _launch_up(tmp_path)
    lines: list[str] = []
    deadline = time.monotonic() + UP_TIMEOUT_S
    assert up.stdout is not None
    while time.monotonic() < deadline:
        line = up.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops every role" in line:
            break
    return up, "".join(lines)


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


def test_up_starts_every_role_and_ctrl_c_stops_them_all(tmp_path: Path) -> None:
    up, output = _start_up(tmp_path)
    try:
        assert "every role is up" in output, output
        for instance in (
            "center-1",
            "jpki-1",
            "midori-hq",
            "nishitokyo-issuer-juki",
            "kodaira-forwarder",
            "kodaira-console",
        ):
            assert instance in output
        children = _children_of(up.pid)
        assert len(children) == SAMPLE_PORTS
        up.send_signal(signal.SIGINT)
        rest, _ = up.communicate(timeout=60)
        assert up.returncode == 0, rest
        assert "all roles stopped" in rest
        assert all(_gone(child) for child in children)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def test_no_role_outlives_a_supervisor_killed_hard(tmp_path: Path) -> None:
    """Killed with SIGKILL, `up` cannot stop its children itself: the kernel tells each to stop (PDEATHSIG)."""
    up, output = _start_up(tmp_path)
    try:
        assert "every role is up" in output, output
        children = _children_of(up.pid)
        assert len(children) == SAMPLE_PORTS
    finally:
        up.kill()
        up.communicate(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(_gone(child) for child in children):
        time.sleep(0.2)
    assert all(_gone(child) for child in children)


def test_roles_too_slow_for_the_start_timeout_are_named_and_every_process_is_stopped(tmp_path: Path) -> None:
    """Some 16 processes cannot all import and answer within one second on any machine we run on: `up` names
    the late ones, points at their logs, stops everything it started and exits non-zero."""
    up = _launch_up(tmp_path, "--start-timeout", "1")
    try:
        children: set[int] = set()
        while up.poll() is None:  # note every role process it starts, to check they all end
            children.update(_children_of(up.pid))
            time.sleep(0.05)
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.returncode != 0, output
    assert "not healthy after 1 s" in output, output
    assert "their logs:" in output
    assert children
    deadline = time.monotonic() + 10
    while not all(_gone(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(child) for child in children)
