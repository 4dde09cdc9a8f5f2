"""The public verification page's checks: a serial, a certificate PDF or a scan; genuine or not, nothing personal."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from yakuba.clock import JST
from yakuba.console.city import CityOffice
from yakuba.documents import DocumentKind, DocumentSummary, DocumentTrust, verify_document, verify_scan
from yakuba.errors import NotFoundError, ValidationError, VerificationError

__all__ = ["MAX_UPLOAD_BYTES", "SERIAL_PATTERN", "Finding", "check_serial", "check_upload"]

_log = logging.getLogger("yakuba.console")

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""A certificate PDF is well under 1 MB and a 600 dpi A4 scan under 10 MB; larger uploads are refused."""

SERIAL_PATTERN = re.compile(r"^[0-9A-Z]{4}-[0-9]{8}$")
"""A document serial (yakuba.documents), as the issuer's endpoint accepts it."""

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """What a receiving company is told: whether the certificate is genuine and still valid, its serial,
    kind, city and day of issue. Never a name, an address or any other content of the certificate."""

    genuine: bool
    serial: str | None = None
    kind: str | None = None
    kind_ja: str | None = None
    city_code: str | None = None
    issued_on: dt.date | None = None
    revoked: bool = False
    status: str | None = None
    checked: tuple[str, ...] = ()
    """Which checks were made (signature, QR, issuer record), in English codes the page translates."""
    error_code: str | None = None


def _kind_ja(kind: str) -> str | None:
    try:
        return DocumentKind(kind).title_ja
    except ValueError:
        return None


def check_serial(office: CityOffice, serial: str, issued_on: dt.date | None) -> Finding:
    """Confirm SERIAL with the day of issue printed beside it, against the issuing server's record.

    Both must match: serials are sequential, so a serial alone would let anyone walk the city's issuances
    (kind and day of each); with the day as well, the page confirms what the holder of the paper already
    knows and reveals nothing else. A mismatch answers exactly as an unknown serial does.
    """
    serial = serial.strip().upper()
    if not SERIAL_PATTERN.match(serial):
        raise ValidationError("a serial looks like J229-00000001", ja="証明書番号は J229-00000001 の形式です")
    if issued_on is None:
        raise ValidationError(
            "enter the date of issue printed on the certificate", ja="証明書に記載の交付日を入力してください"
        )
    try:
        status = office.serial_status(serial)
    except NotFoundError as exc:
        return Finding(genuine=False, serial=serial, checked=("record",), error_code=exc.code)
    answer = status.serial_status
    if answer.issued_at.astimezone(JST).date() != issued_on:
        return Finding(genuine=False, serial=serial, checked=("record",), error_code=NotFoundError.code)
    return Finding(
        genuine=True,
        serial=serial,
        kind=answer.kind,
        kind_ja=_kind_ja(answer.kind),
        city_code=answer.city_code,
        issued_on=issued_on,
        revoked=answer.revoked,
        status=status.status.value,
        checked=("record",),
    )


def check_upload(office: CityOffice, data: bytes, *, trust: DocumentTrust) -> Finding:
    """Check an uploaded PDF (signature, chain, QR, content digest) or scan (the signed QR), then the issuing
    server's record of its serial (revoked, voided). A failed check answers not genuine with its code only:
    a verifier's message may quote what it read, and this page is public."""
    if not data:
        raise ValidationError("no file was uploaded", ja="ファイルが選択されていません")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError("the file is too large", ja="ファイルが大きすぎます")
    checked: tuple[str, ...]
    try:
        if data.startswith(PDF_MAGIC):
            summary: DocumentSummary = verify_document(data, trust=trust).summary
            checked = ("pdf_signature", "qr", "content")
        else:
            try:
                with Image.open(io.BytesIO(data)) as picture:
                    picture.load()
                    summary = verify_scan(picture, trust=trust)
            except (UnidentifiedImageError, OSError) as exc:
                raise ValidationError(
                    "the file is neither a PDF nor an image", ja="PDFでも画像でもないファイルです"
                ) from exc
            checked = ("qr",)
    except VerificationError as exc:
        _log.info("verification page: upload not genuine (%s)", exc.code)
        return Finding(
            genuine=False, checked=("pdf_signature" if data.startswith(PDF_MAGIC) else "qr",), error_code=exc.code
        )
    finding = Finding(
        genuine=True,
        serial=summary.serial,
        kind=summary.kind.value,
        kind_ja=summary.kind.title_ja,
        city_code=summary.city_code,
        issued_on=summary.issued_at.astimezone(JST).date(),
        checked=checked,
    )
    if summary.city_code != office.city.code:
        return finding  # genuine, but another city's record is not ours to read
    try:
        status = office.serial_status(summary.serial)
    except NotFoundError as exc:
        return Finding(genuine=False, serial=summary.serial, checked=(*checked, "record"), error_code=exc.code)
    return Finding(
        genuine=True,
        serial=finding.serial,
        kind=finding.kind,
        kind_ja=finding.kind_ja,
        city_code=finding.city_code,
        issued_on=finding.issued_on,
        revoked=status.serial_status.revoked,
        status=status.status.value,
        checked=(*checked, "record"),
    )
