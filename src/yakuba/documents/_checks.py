"""The required-elements check: every page of a rendered PDF carries seal, serial, date, sentence, markers."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from yakuba.documents._seal import CITY_SEAL_PIXELS, SEAL_INK
from yakuba.documents.errors import MissingElementError

__all__ = ["MIN_SEAL_POINTS", "check_required_elements", "page_texts"]

MIN_SEAL_POINTS = 56.0
"""The printed seal must be at least ~20 mm wide (56 pt); a thumbnail-sized seal is not a seal."""

MAX_FORM_DEPTH = 8
"""How deep into nested form XObjects the seal is looked for."""


def _squeeze(text: str) -> str:
    """Text without any white space: extraction inserts spaces for letter-spacing and line breaks."""
    return "".join(text.split())


def _page_text(page: pdfium.PdfPage) -> str:
    return _squeeze(page.get_textpage().get_text_bounded())


def page_texts(document: pdfium.PdfDocument) -> list[str]:
    """The text of every page, white space removed."""
    return [_page_text(document[index]) for index in range(len(document))]


def _is_seal(image: pdfium.PdfImage) -> bool:
    width, height = image.get_px_size()
    if (width, height) != (CITY_SEAL_PIXELS, CITY_SEAL_PIXELS):
        return False
    left, bottom, right, top = image.get_bounds()
    if right - left < MIN_SEAL_POINTS or top - bottom < MIN_SEAL_POINTS:
        return False
    ink = bytes(SEAL_INK)
    if image.get_filters() == ["FlateDecode"]:
        # Inflate just the first pixel of the stream; only a match is trusted, anything else is decided
        # by pdfium's full decode below (which also applies predictors).
        try:
            if zlib.decompressobj().decompress(bytes(image.get_data()), len(ink)) == ink:
                return True
        except zlib.error:
            pass
    return bytes(image.get_data(decode_simple=True)[: len(ink)]) == ink


def _has_seal(page: pdfium.PdfPage, form: Any = None, depth: int = 0) -> bool:
    """Whether the page (or a form XObject on it, up to MAX_FORM_DEPTH deep) shows the city seal image.

    Walks pdfium's object list directly, from the end: the seal is drawn in the footer, after the body,
    and wrapping every text object of the page in a Python object (`PdfPage.get_objects`) costs more
    than the rest of the check. A page without the seal is still searched completely.
    """
    if form is None:
        count = pdfium_c.FPDFPage_CountObjects(page.raw)
        get = functools.partial(pdfium_c.FPDFPage_GetObject, page.raw)
    else:
        count = pdfium_c.FPDFFormObj_CountObjects(form)
        get = functools.partial(pdfium_c.FPDFFormObj_GetObject, form)
    for index in range(count - 1, -1, -1):
        raw = get(index)
        kind = pdfium_c.FPDFPageObj_GetType(raw)
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            image = pdfium.PdfObject(raw, page=page)
            if isinstance(image, pdfium.PdfImage) and _is_seal(image):
                return True
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < MAX_FORM_DEPTH and _has_seal(page, raw, depth + 1):
            return True
    return False


def check_required_elements(pdf: bytes, fields: Mapping[str, Any]) -> int:
    """Raise MissingElementError unless every page has all required elements; returns the page count.

    Stops the 73-certificates-without-seal incident and the page-of-someone-else incident: each page
    must show the city seal image, the serial, the issue date, the certifying sentence, its `n/N`
    marker and the person it is about.
    """
    document = pdfium.PdfDocument(pdf)
    try:
        # Load each page once: pdfium parses the page's content on every load, and that is most of the check.
        pages = [document[index] for index in range(len(document))]
        texts = [_page_text(page) for page in pages]
        total = len(texts)
        if total == 0:
            raise MissingElementError("the document has no pages")
        wanted = {
            "serial": _squeeze(str(fields["serial"])),
            "issue date": _squeeze(str(fields["issued"])),
            "certifying sentence": _squeeze(str(fields["sentence"])),
            "person marker": _squeeze(str(fields["person"])),
        }
        for index, text in enumerate(texts):
            page = index + 1
            missing = [name for name, value in wanted.items() if value not in text]
            if f"{page}/{total}" not in text:
                missing.append(f"page marker {page}/{total}")
            if not _has_seal(pages[index]):
                missing.append("city seal image")
            if missing:
                raise MissingElementError(
                    f"page {page} of {total} lacks: {', '.join(missing)}; the document is not issued",
                    ja=f"{total}ページ中{page}ページ目に必要な記載がありません（{'、'.join(missing)}）",
                )
        return total
    finally:
        document.close()
