"""The CLI's contract: errors are one line on stderr with exit code 2, never a traceback; nothing half-written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _yakuba(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yakuba", *args], capture_output=True, text=True, check=False, cwd=cwd, timeout=120
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert needle in lines[0]


def test_init_then_pki_show_lists_every_ca_and_service(tmp_path: Path) -> None:
    target = tmp_path / "dep"
    made = _yakuba("init", str(target))
    assert made.returncode == 0, made.stderr
    shown = _yakuba("pki", "show", str(target))
    assert shown.returncode == 0, shown.stderr
    for name in ("store:midori", "dedicated", "jlis", "lgwan", "backbone:132292", "center-1", "kodaira-issuer-koseki"):
        assert name in shown.stdout, name


def test_init_twice_is_a_one_line_error_and_keeps_the_first(tmp_path: Path) -> None:
    target = tmp_path / "dep"
    assert _yakuba("init", str(target)).returncode == 0
    before = (target / "yakuba.toml").read_bytes()
    _assert_one_line_error(_yakuba("init", str(target)), "already there")
    assert (target / "yakuba.toml").read_bytes() == before


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[deployment\n", "not valid TOML"),
        ('[deployment]\nname = "x"\nflavour = 1\n', "deployment.flavour: unknown key"),
    ],
)
def test_bad_config_is_a_one_line_error(tmp_path: Path, content: str, needle: str) -> None:
    (tmp_path / "yakuba.toml").write_text(content, encoding="utf-8")
    _assert_one_line_error(_yakuba("pki", "show", str(tmp_path)), needle)


def test_missing_deployment_is_a_one_line_error(tmp_path: Path) -> None:
    _assert_one_line_error(_yakuba("pki", "show", str(tmp_path / "nowhere")), "no such configuration file")
    assert not (tmp_path / "nowhere").exists()


def test_unknown_command_is_a_usage_error() -> None:
    result = _yakuba("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
