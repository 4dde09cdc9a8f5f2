"""`yakuba torture` on the command line: an unknown fault profile is one line and exit code 2, nothing started;
`yakuba up --workers 0` is refused by the command line itself."""

from __future__ import annotations

import subprocess
import sys

from yakuba.torture import PROFILES, profile_named


def _yakuba(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yakuba", *args], capture_output=True, text=True, check=False, timeout=120
    )


def test_an_unknown_fault_profile_is_refused_in_one_line() -> None:
    result = _yakuba("torture", "--faults", "brutal", "--requests", "1")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "brutal" in lines[0]
    assert "none, light, full" in lines[0]


def test_workers_below_one_are_a_usage_error() -> None:
    result = _yakuba("up", ".", "--workers", "0")
    assert result.returncode == 2
    assert "--workers" in result.stderr


def test_the_profiles_grow_from_none_to_full() -> None:
    none, light, full = (profile_named(n) for n in ("none", "light", "full"))
    assert not none.any
    assert light.any
    assert full.any
    assert set(PROFILES) == {"none", "light", "full"}
    for field in ("delay_probability", "drop_probability", "stall_probability", "duplicate_probability"):
        assert 0 < getattr(light, field) <= getattr(full, field), field
    assert light.kill_restart
    assert full.kill_restart
