"""Signature, chain, QR and content checks; poppler's pdfsig as the independent verifier."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageFilter
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from yakuba.documents import (
    SAMPLE_CITY,
    DocumentKind,
    DocumentSigner,
    DocumentTrust,
    IssuedDocument,
    RenderEngine,
    SignedSummary,
    certified_view,
    issue_document,
    sample_pki,
    sample_request,
    verify_document,
    verify_qr_text,
    verify_scan,
)
from yakuba.documents._summary import qr_svg
from yakuba.documents.errors import ContentMismatchError, SignatureInvalidError
from yakuba.errors import VerificationError

from .conftest import ISSUED_AT


def test_every_kind_verifies(issued: dict[DocumentKind, IssuedDocument], trust: DocumentTrust) -> None:
    for kind, document in issued.items():
        result = verify_document(document.pdf, trust=trust)
        assert result.summary == document.summary
        assert result.pages == document.pages
        assert result.certified["kind"] == kind.value


def test_pdfsig_reports_a_valid_signature_by_the_city(
    issued: dict[DocumentKind, IssuedDocument], tmp_path: Path
) -> None:
    target = tmp_path / "juminhyo.pdf"
    target.write_bytes(issued[DocumentKind.RESIDENT_RECORD].pdf)
    out = subprocess.run(["pdfsig", str(target)], capture_output=True, text=True, check=True).stdout
    assert "Signature is Valid." in out
    assert f"Signer Certificate Common Name: city {SAMPLE_CITY.code} document signing" in out
    assert "Total document signed" in out
    assert "ETSI.CAdES.detached" in out, "PAdES baseline sub-filter"


@pytest.mark.parametrize("where", [0.2, 0.5, 0.8])
def test_one_changed_byte_fails(where: float, issued: dict[DocumentKind, IssuedDocument], trust: DocumentTrust) -> None:
    pdf = bytearray(issued[DocumentKind.RESIDENT_RECORD].pdf)
    position = int(len(pdf) * where)
    pdf[position] ^= 0x01
    with pytest.raises(VerificationError):
        verify_document(bytes(pdf), trust=trust)


def test_appended_update_fails(issued: dict[DocumentKind, IssuedDocument], trust: DocumentTrust) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(issued[DocumentKind.RESIDENT_RECORD].pdf))
    writer.root["/YakubaForged"] = generic.TextStringObject("別人")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SignatureInvalidError, match="whole file"):
        verify_document(out.getvalue(), trust=trust)


def test_qr_from_another_document_fails_the_content_match(
    engine: RenderEngine, signer: DocumentSigner, trust: DocumentTrust
) -> None:
    mine = sample_request(DocumentKind.RESIDENT_RECORD, seed=31, issued_at=ISSUED_AT)
    other = issue_document(
        sample_request(DocumentKind.RESIDENT_RECORD, seed=32, issued_at=ISSUED_AT), engine=engine, signer=signer
    )
    # The forger reuses the other document's genuine QR (same serial and kind claimed) on this content.
    stolen = SignedSummary(summary=other.summary, signature=signer.sign_summary(other.summary.payload()))
    view = certified_view(mine)
    forged = signer.sign_pdf(engine.render(mine, view, qr_svg=qr_svg(stolen.text())))
    with pytest.raises(ContentMismatchError):
        verify_document(forged, trust=trust)


def test_another_citys_pki_is_not_trusted(issued: dict[DocumentKind, IssuedDocument]) -> None:
    _, stranger = sample_pki(SAMPLE_CITY.code, now=ISSUED_AT)
    with pytest.raises(SignatureInvalidError):
        verify_document(issued[DocumentKind.RESIDENT_RECORD].pdf, trust=stranger)


def test_scan_of_the_paper_verifies(
    issued: dict[DocumentKind, IssuedDocument], trust: DocumentTrust, tmp_path: Path
) -> None:
    document = issued[DocumentKind.SEAL_REGISTRATION]
    source = tmp_path / "inkan.pdf"
    source.write_bytes(document.pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(source), str(tmp_path / "scan")], check=True)
    # A slightly skewed, slightly blurred photo of the paper.
    photo = Image.open(tmp_path / "scan.png").convert("L").rotate(2, expand=True, fillcolor=255)
    photo = photo.filter(ImageFilter.GaussianBlur(0.5))
    assert verify_scan(photo, trust=trust) == document.summary


def test_scan_without_qr_fails(trust: DocumentTrust) -> None:
    with pytest.raises(ContentMismatchError, match="no yakuba certificate QR"):
        verify_scan(Image.new("L", (400, 400), 255), trust=trust)


def test_edited_qr_text_fails(
    issued: dict[DocumentKind, IssuedDocument], signer: DocumentSigner, trust: DocumentTrust
) -> None:
    summary = issued[DocumentKind.TAX].summary
    text = SignedSummary(summary=summary, signature=signer.sign_summary(summary.payload())).text()
    assert verify_qr_text(text, trust=trust) == summary
    edited = text.replace(summary.serial, "0001-99999999")
    with pytest.raises(SignatureInvalidError):
        verify_qr_text(edited, trust=trust)


def test_key_dir_trust_matches_init_pki_layout(
    city_pki: tuple[DocumentSigner, DocumentTrust], issued: dict[DocumentKind, IssuedDocument], tmp_path: Path
) -> None:
    signer, trust = city_pki
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "lgpki-root.crt").write_bytes(trust.roots[0].public_bytes(serialization.Encoding.PEM))
    city = tmp_path / "cities" / SAMPLE_CITY.code
    city.mkdir(parents=True)
    (city / "document-signing.crt").write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    loaded = DocumentTrust.from_key_dir(tmp_path)
    assert verify_document(issued[DocumentKind.FUHYO].pdf, trust=loaded).summary.city_code == SAMPLE_CITY.code
