"""`yakuba verify FILE.pdf` and `yakuba verify --image SCAN.png` against a key folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import typer
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from yakuba.cli._verify import verify
from yakuba.documents import SAMPLE_CITY, DocumentKind, DocumentSigner, DocumentTrust, IssuedDocument
from yakuba.errors import VerificationError


@pytest.fixture
def key_dir(city_pki: tuple[DocumentSigner, DocumentTrust], tmp_path: Path) -> Path:
    signer, trust = city_pki
    root = tmp_path / "keys"
    (root / "ca").mkdir(parents=True)
    (root / "ca" / "lgpki-root.crt").write_bytes(trust.roots[0].public_bytes(serialization.Encoding.PEM))
    city = root / "cities" / SAMPLE_CITY.code
    city.mkdir(parents=True)
    (city / "document-signing.crt").write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    return root


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(verify)
    return app


def test_verify_pdf_and_scan(issued: dict[DocumentKind, IssuedDocument], key_dir: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "juminhyo.pdf"
    pdf.write_bytes(issued[DocumentKind.RESIDENT_RECORD].pdf)
    result = CliRunner().invoke(_app(), [str(pdf), "--key-dir", str(key_dir)])
    assert result.exit_code == 0, result.output
    assert "certificate genuine" in result.output
    assert issued[DocumentKind.RESIDENT_RECORD].summary.serial in result.output

    subprocess.run(["pdftoppm", "-r", "120", "-png", "-singlefile", str(pdf), str(tmp_path / "scan")], check=True)
    result = CliRunner().invoke(_app(), [str(tmp_path / "scan.png"), "--image", "--key-dir", str(key_dir)])
    assert result.exit_code == 0, result.output
    assert "QR genuine" in result.output


def test_verify_tampered_pdf_fails(issued: dict[DocumentKind, IssuedDocument], key_dir: Path, tmp_path: Path) -> None:
    data = bytearray(issued[DocumentKind.RESIDENT_RECORD].pdf)
    data[len(data) // 2] ^= 0x20
    pdf = tmp_path / "tampered.pdf"
    pdf.write_bytes(bytes(data))
    result = CliRunner().invoke(_app(), [str(pdf), "--key-dir", str(key_dir)])
    assert result.exit_code != 0
    assert isinstance(result.exception, VerificationError)
