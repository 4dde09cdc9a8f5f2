"""The two signing paths (pyHanko's, then the CMS template with the direct incremental update) agree."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import SigningError

from yakuba.documents import (
    SAMPLE_CITY,
    DocumentKind,
    DocumentSigner,
    DocumentSummary,
    DocumentTrust,
    RenderEngine,
    SignedSummary,
    certified_view,
    sample_pki,
    sample_request,
    verify_document,
)
from yakuba.documents._checks import check_required_elements
from yakuba.documents._cms import PADES_SIGNED_ATTRIBUTES, CmsTemplate, der
from yakuba.documents._incremental import SignatureLayout
from yakuba.documents._signing import SIGNATURE_FIELD
from yakuba.documents._summary import qr_svg
from yakuba.errors import VerificationError

from .conftest import ISSUED_AT


def _pdfsig(pdf: bytes, tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    target.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(target)], capture_output=True, text=True, check=True).stdout


def _embedded_cms(pdf: bytes) -> cms.ContentInfo:
    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert len(signatures) == 1
    assert signatures[0].field_name == SIGNATURE_FIELD
    contents = signatures[0].sig_object["/Contents"]
    return cms.ContentInfo.load(bytes(contents), strict=False)  # the hex is zero-padded


@pytest.fixture(scope="module")
def pki() -> tuple[DocumentSigner, DocumentTrust]:
    return sample_pki(SAMPLE_CITY.code, now=ISSUED_AT)


def _fresh(pki: tuple[DocumentSigner, DocumentTrust]) -> DocumentSigner:
    """A new signer object for the same key: no CMS template yet, as at the start of a process."""
    signer = pki[0]
    return DocumentSigner(
        city_code=signer.city_code,
        certificate=signer.certificate,
        private_key=signer._private_key,
        chain=signer.chain,
    )


@pytest.fixture(scope="module")
def unsigned(engine: RenderEngine, pki: tuple[DocumentSigner, DocumentTrust]) -> bytes:
    """A rendered, checked, not yet signed certificate whose QR is signed by the PKI's city key."""
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=41, issued_at=ISSUED_AT)
    view = certified_view(request)
    summary = DocumentSummary(
        city_code=request.header.city_code,
        kind=request.kind,
        serial=request.header.serial,
        issued_at=request.header.issued_at,
        content_digest=view.digest,
    )
    signed = SignedSummary(summary=summary, signature=pki[0].sign_summary(summary.payload()))
    pdf = engine.render(request, view, qr_svg=qr_svg(signed.text()))
    assert check_required_elements(pdf, view.fields) == 1
    return pdf


def test_pyhanko_first_then_template_both_valid_pades(
    unsigned: bytes, pki: tuple[DocumentSigner, DocumentTrust], tmp_path: Path
) -> None:
    signer = _fresh(pki)
    assert signer._cms_signer.template is None
    first = signer.sign_pdf(unsigned)  # pyHanko's own path; it leaves the template behind
    assert signer._cms_signer.template is not None
    assert SignatureLayout.read(unsigned) is not None, "a typst PDF is in the plain shape"
    second = signer.sign_pdf(unsigned)  # CMS template + direct incremental update
    assert first[: len(unsigned)] == unsigned
    assert second[: len(unsigned)] == unsigned
    assert first != second
    for name, pdf in (("pyhanko.pdf", first), ("direct.pdf", second)):
        report = _pdfsig(pdf, tmp_path, name)
        assert "Signature is Valid." in report, name
        assert "Total document signed" in report, name
        assert "ETSI.CAdES.detached" in report, name
        assert f"Signer Certificate Common Name: city {SAMPLE_CITY.code} document signing" in report, name
        container = _embedded_cms(pdf)
        attributes = container["content"]["signer_infos"][0]["signed_attrs"]
        assert {a["type"].native for a in attributes} == PADES_SIGNED_ATTRIBUTES, "PAdES B-B: no signing-time"
        check = subprocess.run(["qpdf", "--check", str(tmp_path / name)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        # pyHanko's validator (intact, valid, trusted, whole file), the QR and the required elements.
        assert verify_document(pdf, trust=pki[1]).pages == 1, name
    # Same constant parts: the two containers differ only in message digest and signature.
    one, two = _embedded_cms(first), _embedded_cms(second)
    assert one["content"]["certificates"].dump() == two["content"]["certificates"].dump()
    assert (
        one["content"]["signer_infos"][0]["signature"].native != two["content"]["signer_infos"][0]["signature"].native
    )


def test_direct_update_is_refused_when_a_byte_changes(
    unsigned: bytes, pki: tuple[DocumentSigner, DocumentTrust]
) -> None:
    signer = _fresh(pki)
    signer.sign_pdf(unsigned)
    signed = signer.sign_pdf(unsigned)
    assert SignatureLayout.read(unsigned) is not None
    assert signer._cms_signer.template is not None
    # A byte of the page content (inside the first signed range) and one of the appended page object.
    for position in (len(unsigned) // 2, len(unsigned) + 40):
        tampered = bytearray(signed)
        tampered[position] ^= 0x01
        with pytest.raises(VerificationError):
            verify_document(bytes(tampered), trust=pki[1])


def test_cms_template_reassembles_pyhankos_container_exactly(
    unsigned: bytes, pki: tuple[DocumentSigner, DocumentTrust]
) -> None:
    signer = _fresh(pki)
    container = _embedded_cms(signer.sign_pdf(unsigned))
    template = CmsTemplate.capture(container)
    assert template is not None
    info = container["content"]["signer_infos"][0]
    digest = next(a["values"][0].native for a in info["signed_attrs"] if a["type"].native == "message_digest")
    assert template.assemble(digest, info["signature"].native) == container.dump()
    assert template.signed_attributes(digest) == der(0x31, info["signed_attrs"].contents)
    with pytest.raises(ValueError, match="SHA-256"):
        template.signed_attributes(b"short")


def test_a_pdf_not_in_the_plain_shape_goes_to_pyhanko(
    unsigned: bytes, pki: tuple[DocumentSigner, DocumentTrust]
) -> None:
    signer, trust = _fresh(pki), pki[1]
    signer.sign_pdf(unsigned)
    assert signer._cms_signer.template is not None
    # A second revision (here: an entry another tool added to the catalog) is not the plain shape.
    writer = IncrementalPdfFileWriter(io.BytesIO(unsigned))
    writer.root["/YakubaNote"] = generic.TextStringObject("revised")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    revised = out.getvalue()
    assert SignatureLayout.read(revised) is None
    signed = signer.sign_pdf(revised)  # signed by pyHanko
    assert b"pyHanko" in signed[len(revised) :], "pyHanko records itself as producer"
    assert verify_document(signed, trust=trust).pages == 1
    # A signed PDF has a form and a filled field: pyHanko refuses to sign it again, as before.
    assert SignatureLayout.read(signed) is None
    with pytest.raises(SigningError, match="filled already"):
        signer.sign_pdf(signed)
    assert SignatureLayout.read(b"not a pdf") is None
    assert SignatureLayout.read(unsigned[: len(unsigned) // 2]) is None


def test_der_lengths() -> None:
    assert der(0x04, b"\x01" * 5) == b"\x04\x05" + b"\x01" * 5
    assert der(0x04, b"\x00" * 0x80)[:3] == b"\x04\x81\x80"
    assert der(0x30, b"\x00" * 0x1234)[:4] == b"\x30\x82\x12\x34"
