"""Sample certificates of every kind written as PDF and PNG: what `yakuba demo` shows a person."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdfium2 as pdfium

from yakuba.documents._engine import RenderEngine
from yakuba.documents._models import DocumentKind, ResidentRecordOptions
from yakuba.documents._pipeline import issue_document
from yakuba.documents._sample_pki import sample_pki
from yakuba.documents._samples import SAMPLE_CITY, sample_request
from yakuba.documents._signing import DocumentSigner

__all__ = ["SAMPLE_PNG_DPI", "write_sample_documents"]

SAMPLE_PNG_DPI = 110
"""Readable on a screen (A4 is ~910 x 1290 px), small enough to browse every kind at once."""

_POINTS_PER_INCH = 72


def write_sample_documents(
    folder: Path,
    *,
    issued_at: dt.datetime,
    engine: RenderEngine | None = None,
    signer: DocumentSigner | None = None,
) -> list[Path]:
    """Issue one signed sample of every kind into FOLDER (`<kind>.pdf`, `<kind>-<page>.png`); returns the files.

    Without SIGNER a throwaway PKI is made (the PDFs then verify only against that PKI's root).
    """
    folder.mkdir(parents=True, exist_ok=True)
    engine = engine or RenderEngine.create()
    signer = signer or sample_pki(SAMPLE_CITY.code, now=issued_at)[0]
    written: list[Path] = []
    full_options = ResidentRecordOptions(show_honseki=True, show_relationship=True, show_individual_number=True)
    for index, kind in enumerate(DocumentKind, start=1):
        options = full_options if kind is DocumentKind.RESIDENT_RECORD else None
        request = sample_request(kind, seed=index, issued_at=issued_at, options=options)
        issued = issue_document(request, engine=engine, signer=signer)
        pdf_path = folder / f"{kind.value}.pdf"
        pdf_path.write_bytes(issued.pdf)
        written.append(pdf_path)
        document = pdfium.PdfDocument(issued.pdf)
        try:
            for page_index in range(len(document)):
                image = document[page_index].render(scale=SAMPLE_PNG_DPI / _POINTS_PER_INCH).to_pil()
                png_path = folder / f"{kind.value}-{page_index + 1}.png"
                image.save(png_path, format="PNG", optimize=True)
                written.append(png_path)
        finally:
            document.close()
    return written
