"""A document missing a required element never leaves `documents`."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from yakuba.documents import DocumentKind, DocumentSigner, RenderEngine, certified_view, issue_document, sample_request
from yakuba.documents._checks import check_required_elements
from yakuba.documents._summary import qr_svg
from yakuba.documents.errors import MissingElementError

from .conftest import ISSUED_AT


class _SealLessEngine(RenderEngine):
    """A layout bug stand-in: the seal image is replaced by an empty one (the 73-certificates incident)."""

    def _seal_png(self, mayor_title: str) -> bytes:
        out = io.BytesIO()
        Image.new("RGBA", (8, 8), (255, 255, 255, 0)).save(out, format="PNG")
        return out.getvalue()


def test_document_without_seal_is_refused(engine: RenderEngine, signer: DocumentSigner) -> None:
    broken = _SealLessEngine(compiler=engine._compiler, fonts=engine.fonts, root=engine._root)
    request = sample_request(DocumentKind.RESIDENT_RECORD, seed=5, issued_at=ISSUED_AT)
    with pytest.raises(MissingElementError, match="city seal image"):
        issue_document(request, engine=broken, signer=signer)


def test_every_page_is_checked(engine: RenderEngine) -> None:
    request = sample_request(DocumentKind.KOSEKI_FULL, seed=5, issued_at=ISSUED_AT)
    view = certified_view(request)
    pdf = engine.render(request, view, qr_svg=qr_svg("YKB1|test"))
    assert check_required_elements(pdf, view.fields) == 2
    with pytest.raises(MissingElementError, match="page 1 of 2 lacks: serial"):
        check_required_elements(pdf, {**view.fields, "serial": "0001-77777777"})
    with pytest.raises(MissingElementError, match="person marker"):
        check_required_elements(pdf, {**view.fields, "person": "別人　花子"})
    with pytest.raises(MissingElementError, match="issue date"):
        check_required_elements(pdf, {**view.fields, "issued": "令和８年１月１日"})
    with pytest.raises(MissingElementError, match="certifying sentence"):
        check_required_elements(pdf, {**view.fields, "sentence": "上記のとおり相違ないことを証明する。"})
