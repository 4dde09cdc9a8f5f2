"""`yakuba pki ...`: show lists everything, issue/revoke/enrol/reset-pin work, bad input is one line, exit 2."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yakuba.config import Deployment, segments, write_sample
from yakuba.errors import CardError
from yakuba.pki import init_pki, load_crl
from yakuba.pki.card import PIN_TRIES, VirtualCardReader


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    dep = write_sample(tmp_path_factory.mktemp("cli") / "dep")
    init_pki(dep)
    return dep


@pytest.fixture
def own(tmp_path: Path) -> Deployment:
    dep = write_sample(tmp_path / "dep")
    init_pki(dep)
    return dep


def _yakuba(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yakuba", *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )


def _invoke(*args: str | Path) -> str:
    from yakuba.cli._app import app

    result = CliRunner().invoke(app, [*map(str, args)])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _one_line_error(result: subprocess.CompletedProcess[str], needle: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert needle in lines[0]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_show_lists_every_segment_ca_and_every_service_certificate(shared: Deployment) -> None:
    out = _invoke("pki", "show", shared.root)
    rows = out.splitlines()
    for segment in segments(shared):
        assert any("segment-ca" in row and f" {segment.id} " in row for row in rows), segment.id
        for member in (*segment.servers, *segment.clients):
            assert any(f" {member.instance} @ {segment.id} " in row for row in rows), (member.instance, segment.id)
    for needle in ("jpki-root", "jpki-auth", "lgpki-root", "西東京市長 公印", "OU=132110", "jpki-auth CRL"):
        assert needle in out, needle


def test_init_through_the_cli_is_idempotent(shared: Deployment) -> None:
    assert "(0 issued now)" in _invoke("pki", "init", shared.root)


def test_issue_reissues_one_certificate(own: Deployment) -> None:
    before = _snapshot(own.key_dir)
    out = _invoke(
        "pki",
        "issue",
        own.root,
        "--instance",
        "center-1",
        "--segment",
        "lgwan",
    )
    assert "spiffe://yakuba.sample/center/center-1" in out
    after = _snapshot(own.key_dir)
    assert {k for k in before if before[k] != after.get(k)} == {
        "services/center-1/lgwan.crt",
        "services/center-1/lgwan.key",
    }


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--instance", "nobody", "--segment", "lgwan"), "instance 'nobody' is not on segment lgwan"),
        (("--instance", "center-1", "--segment", "moon"), "no network segment 'moon'"),
    ],
)
def test_issue_with_bad_input_is_a_one_line_error_and_writes_nothing(
    own: Deployment, args: tuple[str, ...], needle: str
) -> None:
    before = _snapshot(own.key_dir)
    _one_line_error(_yakuba("pki", "issue", own.root, *args), needle)
    assert _snapshot(own.key_dir) == before


@pytest.mark.parametrize("command", ["show", "init", "issue"])
def test_a_missing_deployment_is_a_one_line_error(tmp_path: Path, command: str) -> None:
    extra = ("--instance", "center-1", "--segment", "lgwan") if command == "issue" else ()
    _one_line_error(_yakuba("pki", command, tmp_path / "nowhere", *extra), "no such configuration file")
    assert not (tmp_path / "nowhere").exists()


def test_enrol_revoke_and_show_cards(own: Deployment, tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text("2468\n", encoding="ascii")
    card = tmp_path / "resident.card"
    out = _invoke("pki", "enrol", own.root, "--city", "132292", "--pin-file", pin_file, card)
    serial = VirtualCardReader.open(own, path=card).serial
    assert f"card {serial}" in out
    assert "2468" not in out
    _invoke("pki", "revoke", own.root, "--card", serial, "--reason", "keyCompromise")
    assert load_crl(own).get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    shown = _invoke("pki", "show", own.root, "--cards")
    assert f"{serial} (revoked)" in shown
    openssl = subprocess.run(
        ["openssl", "crl", "-in", str(own.key_dir / "ca" / "jpki-auth.crl"), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"Serial Number: {serial}" in openssl.stdout


def test_enrol_and_revoke_refuse_bad_input(own: Deployment, tmp_path: Path) -> None:
    before = _snapshot(own.key_dir)
    _one_line_error(
        _yakuba("pki", "enrol", own.root, "--city", "999999", "--pin", "1234", tmp_path / "x.card"), "no city"
    )
    _one_line_error(
        _yakuba("pki", "enrol", own.root, "--city", "132292", "--pin", "12", tmp_path / "x.card"), "4 digits"
    )
    _one_line_error(
        _yakuba("pki", "revoke", own.root, "--card", "0123456789ABCDEF", "--reason", "keyCompromise"), "no card"
    )
    assert not (tmp_path / "x.card").exists()
    assert _snapshot(own.key_dir) == before


def test_reset_pin_at_the_counter(own: Deployment, tmp_path: Path) -> None:
    card = tmp_path / "resident.card"
    _invoke("pki", "enrol", own.root, "--city", "132110", "--pin", "1357", card)
    reader = VirtualCardReader.open(own, path=card)
    reader.select_jpki_ap()
    for _ in range(PIN_TRIES):
        with pytest.raises(CardError):
            reader.verify_pin("0000")
    assert reader.pin_tries_left() == 0
    _one_line_error(_yakuba("pki", "reset-pin", own.root, "--city", "132292", card), "another city")
    assert reader.pin_tries_left() == 0
    out = _invoke("pki", "reset-pin", own.root, "--city", "132110", card)
    assert "PIN lock reset" in out
    assert reader.pin_tries_left() == PIN_TRIES
    reader.verify_pin("1357")
