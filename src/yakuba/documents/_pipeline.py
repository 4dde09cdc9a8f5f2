"""The safe recipe: request -> certified view -> signed QR -> layout -> required-elements check -> PAdES."""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.documents._checks import check_required_elements
from yakuba.documents._engine import RenderEngine
from yakuba.documents._models import DocumentRequest
from yakuba.documents._render import certified_view
from yakuba.documents._signing import DocumentSigner
from yakuba.documents._status import SerialStatus
from yakuba.documents._summary import DocumentSummary, SignedSummary, qr_svg
from yakuba.errors import ValidationError

__all__ = ["IssuedDocument", "issue_document"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedDocument:
    """A signed certificate PDF and what the issuer logs about it."""

    pdf: bytes
    summary: DocumentSummary
    pages: int

    @property
    def status(self) -> SerialStatus:
        return SerialStatus.of(self.summary)


def issue_document(request: DocumentRequest, *, engine: RenderEngine, signer: DocumentSigner) -> IssuedDocument:
    """Render, check and sign one certificate; every failure raises and nothing partial is returned.

    1. Compute the certified view; a value too wide for its field is refused (never cut off).
    2. Sign the QR summary (serial, city, kind, time, SHA-256 of the certified view) with the city key.
    3. Lay the document out with the reused typst compiler.
    4. Check every page for seal, serial, issue date, certifying sentence, page and person markers
       (stops a certificate without its seal, or with a page of another person, from leaving).
    5. Sign the PDF (PAdES B-B) with the city's document-signing certificate.
    """
    if request.header.city_code != signer.city_code:
        raise ValidationError(
            f"request for city {request.header.city_code} cannot be signed with city {signer.city_code}'s key",
            ja="証明書の市区町村と署名鍵の市区町村が一致しません",
        )
    view = certified_view(request)  # 1.
    summary = DocumentSummary(
        city_code=request.header.city_code,
        kind=request.kind,
        serial=request.header.serial,
        issued_at=request.header.issued_at,
        content_digest=view.digest,
    )
    signed = SignedSummary(summary=summary, signature=signer.sign_summary(summary.payload()))  # 2.
    unsigned = engine.render(request, view, qr_svg=qr_svg(signed.text()))  # 3.
    pages = check_required_elements(unsigned, view.fields)  # 4.
    return IssuedDocument(pdf=signer.sign_pdf(unsigned), summary=summary, pages=pages)  # 5.
