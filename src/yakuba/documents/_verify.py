"""Verification of an issued certificate: PDF signature and chain, signed QR, QR against the content."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ObjectIdentifier
from PIL import Image
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko_certvalidator import ValidationContext

from yakuba.documents._checks import check_required_elements
from yakuba.documents._summary import DocumentSummary, SignedSummary, read_qr_texts
from yakuba.documents.errors import ContentMismatchError, SignatureInvalidError
from yakuba.errors import ConfigError, VerificationError

__all__ = [
    "CERTIFIED_ATTACHMENT",
    "DocumentTrust",
    "VerifiedDocument",
    "verify_document",
    "verify_qr_text",
    "verify_scan",
]

CERTIFIED_ATTACHMENT = "certified-content.json"
"""The attachment holding the certified content whose SHA-256 the QR carries."""

DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336): only a document-signing certificate may sign a certificate PDF."""

QR_RENDER_SCALE = 2.5
"""Pages are rasterised at 180 dpi to read the QR back, as a scanner would see the paper."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentTrust:
    """What a verifier trusts: the LGPKI roots and each city's document-signing certificate by city code."""

    roots: tuple[x509.Certificate, ...]
    city_certificates: dict[str, x509.Certificate]

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> DocumentTrust:
        """The trust a deployment's key folder gives: `ca/lgpki-root.crt` and `cities/*/document-signing.crt`."""
        root_file = key_dir / "ca" / "lgpki-root.crt"
        try:
            roots = (x509.load_pem_x509_certificate(root_file.read_bytes()),)
            cities = {
                folder.name: x509.load_pem_x509_certificate((folder / "document-signing.crt").read_bytes())
                for folder in sorted((key_dir / "cities").iterdir())
                if (folder / "document-signing.crt").is_file()
            }
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{key_dir}: cannot load the LGPKI root or the city certificates: {exc}") from exc
        return cls(roots=roots, city_certificates=cities)

    def city_certificate(self, city_code: str, *, at: dt.datetime) -> x509.Certificate:
        """The city's document-signing certificate, checked against the roots at time AT."""
        cert = self.city_certificates.get(city_code)
        if cert is None:
            raise SignatureInvalidError(f"no document-signing certificate is trusted for city {city_code}")
        _check_chain(cert, self.roots, at=at)
        return cert


def _check_chain(cert: x509.Certificate, roots: tuple[x509.Certificate, ...], *, at: dt.datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise SignatureInvalidError(f"the city certificate is not valid at {at.isoformat()}")
    for root in roots:
        try:
            cert.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return
    raise SignatureInvalidError("the city certificate is not issued by a trusted LGPKI root")


def _check_summary_signature(signed: SignedSummary, cert: x509.Certificate) -> None:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise SignatureInvalidError("the city certificate does not hold an EC key")
    r = int.from_bytes(signed.signature[:32], "big")
    s = int.from_bytes(signed.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), signed.summary.payload(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise SignatureInvalidError("the QR summary's signature is not the city's") from exc


def verify_qr_text(text: str, *, trust: DocumentTrust) -> DocumentSummary:
    """Check a QR text alone (from a scan of the paper): well-formed, signed by its city's trusted key.

    1. Parse the YKB1 summary (stops other QR codes and truncated scans).
    2. Find the city's document-signing certificate and check it chains to the LGPKI root
       (stops a summary signed by a key the city never had).
    3. Check the ECDSA signature over the summary (stops an edited serial, kind, date or digest).
    """
    signed = SignedSummary.parse(text)  # 1.
    cert = trust.city_certificate(signed.summary.city_code, at=signed.summary.issued_at)  # 2.
    _check_summary_signature(signed, cert)  # 3.
    return signed.summary


def verify_scan(image: Image.Image, *, trust: DocumentTrust) -> DocumentSummary:
    """Decode the certificate QR from a scan or photo and check it (see `verify_qr_text`)."""
    texts = [t for t in read_qr_texts(image) if t.startswith("YKB1|")]
    if not texts:
        raise ContentMismatchError("no yakuba certificate QR code found in the image")
    return verify_qr_text(texts[0], trust=trust)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedDocument:
    """A certificate PDF that passed every check."""

    summary: DocumentSummary
    signer_subject: str
    pages: int
    certified: dict[str, Any]


def _validate_pdf_signature(pdf: bytes, trust: DocumentTrust) -> x509.Certificate:
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as exc:
        raise SignatureInvalidError(f"the PDF cannot be read: {exc}") from exc
    if len(signatures) != 1:
        raise SignatureInvalidError(f"expected one PDF signature, found {len(signatures)}")
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in trust.roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        status = validate_pdf_signature(signatures[0], signer_validation_context=context)
    except (SignatureValidationError, ValueError, KeyError, PdfReadError) as exc:
        raise SignatureInvalidError(f"the PDF signature does not validate: {exc}") from exc
    if not status.intact or not status.valid:
        raise SignatureInvalidError("the PDF was changed after it was signed (digest or signature mismatch)")
    if not status.trusted:
        raise SignatureInvalidError("the PDF signer's certificate does not chain to a trusted LGPKI root")
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        raise SignatureInvalidError("the PDF signature does not cover the whole file (content was appended)")
    return x509.load_der_x509_certificate(status.signing_cert.dump())


def _certified_attachment(document: pdfium.PdfDocument) -> bytes:
    for index in range(document.count_attachments()):
        attachment = document.get_attachment(index)
        if attachment.get_name() == CERTIFIED_ATTACHMENT:
            return bytes(attachment.get_data())
    raise ContentMismatchError(f"the PDF carries no {CERTIFIED_ATTACHMENT}")


def verify_document(pdf: bytes, *, trust: DocumentTrust) -> VerifiedDocument:
    """Check a certificate PDF end to end; returns what was verified or raises VerificationError.

    1. The PAdES signature is intact, covers the whole file and chains to the LGPKI root
       (stops edited bytes, appended pages, self-made certificates).
    2. The signer is the city's document-signing certificate (EKU documentSigning)
       (stops another kind of city certificate, e.g. a TLS one, signing certificates).
    3. Every page's printed QR decodes to the same signed summary, signed by that city's key
       (stops a page from another document and a forged QR).
    4. The summary's digest equals the SHA-256 of the certified content inside the PDF, and its
       serial, kind, city and time equal that content's (stops a QR copied from another document).
    5. Every page shows the seal, serial, issue date, certifying sentence and page/person markers
       of that content (stops a page whose visible text disagrees with what was signed).
    """
    signer = _validate_pdf_signature(pdf, trust)  # 1.
    try:  # 2.
        usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise SignatureInvalidError("the signer certificate has no extended key usage") from exc
    if DOCUMENT_SIGNING_EKU not in usages:
        raise SignatureInvalidError("the signer certificate is not a document-signing certificate")
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise SignatureInvalidError(f"the PDF cannot be read: {exc}") from exc
    try:
        texts: set[str] = set()  # 3.
        for index in range(len(document)):
            bitmap = document[index].render(scale=QR_RENDER_SCALE, grayscale=True)
            found = [t for t in read_qr_texts(bitmap.to_pil()) if t.startswith("YKB1|")]
            if not found:
                raise ContentMismatchError(f"page {index + 1} has no readable certificate QR code")
            texts.update(found)
        if len(texts) != 1:
            raise ContentMismatchError("the pages carry different QR codes: pages of different documents")
        summary = verify_qr_text(texts.pop(), trust=trust)
        city_cert = trust.city_certificate(summary.city_code, at=summary.issued_at)
        if city_cert.public_bytes(serialization.Encoding.DER) != signer.public_bytes(serialization.Encoding.DER):
            raise SignatureInvalidError(f"the PDF is not signed by city {summary.city_code}'s certificate")
        canonical = _certified_attachment(document)  # 4.
    finally:
        document.close()
    if hashlib.sha256(canonical).digest() != summary.content_digest:
        raise ContentMismatchError("the QR code's content digest does not match this document's content")
    try:
        certified: dict[str, Any] = json.loads(canonical)
    except ValueError as exc:
        raise ContentMismatchError("the certified content is not JSON") from exc
    claimed = (certified.get("serial"), certified.get("kind"), certified.get("city_code"))
    if claimed != (summary.serial, summary.kind.value, summary.city_code):
        raise ContentMismatchError("the QR summary names another serial, kind or city than the document")
    issued = dt.datetime.fromisoformat(str(certified.get("issued_at")))
    if int(issued.timestamp()) != int(summary.issued_at.timestamp()):
        raise ContentMismatchError("the QR summary's issue time differs from the document's")
    try:
        pages = check_required_elements(pdf, certified)  # 5.
    except VerificationError:
        raise
    except (KeyError, TypeError) as exc:
        raise ContentMismatchError(f"the certified content lacks a field: {exc}") from exc
    return VerifiedDocument(
        summary=summary, signer_subject=signer.subject.rfc4514_string(), pages=pages, certified=certified
    )
