"""The signed QR summary: serial, city, kind, issue time and content digest, checkable offline."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
from dataclasses import dataclass

import zxingcpp
from PIL import Image

from yakuba.documents._models import SERIAL_PATTERN, DocumentKind
from yakuba.documents.errors import ContentMismatchError, SignatureInvalidError
from yakuba.errors import VerificationError

__all__ = ["QR_PREFIX", "DocumentSummary", "SignedSummary", "qr_svg", "read_qr_texts"]

QR_PREFIX = "YKB1"
"""Format tag and version of the summary; a reader rejects anything else instead of guessing."""

QR_ERROR_CORRECTION = "M"
"""Level M (15 %): survives a crease or a stain on plain paper while staying small (version 9-10)."""

QR_SCAN_UPSCALE_BELOW = 2400
"""A scan that does not decode as is is enlarged to at least this width: blurred small modules then decode."""

_FIELDS = 7


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"QR field is not base64url: {text[:16]}...") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSummary:
    """What the QR states about one certificate; no personal data beyond what the serial already names."""

    city_code: str
    kind: DocumentKind
    serial: str
    issued_at: dt.datetime
    content_digest: bytes

    def payload(self) -> bytes:
        """The exact bytes the city signs: `YKB1|city|kind|serial|unix-time|digest`."""
        parts = (
            QR_PREFIX,
            self.city_code,
            self.kind.value,
            self.serial,
            str(int(self.issued_at.timestamp())),
            _b64(self.content_digest),
        )
        return "|".join(parts).encode("ascii")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedSummary:
    """A summary and the city's ECDSA signature over its payload, as carried in the QR code."""

    summary: DocumentSummary
    signature: bytes
    """Raw r||s (64 bytes for P-256), shorter than DER in the QR."""

    def text(self) -> str:
        return self.summary.payload().decode("ascii") + "|" + _b64(self.signature)

    @classmethod
    def parse(cls, text: str) -> SignedSummary:
        """Parse a QR text; raises VerificationError for anything that is not a well-formed YKB1 summary."""
        parts = text.strip().split("|")
        if len(parts) != _FIELDS or parts[0] != QR_PREFIX:
            raise ContentMismatchError(f"not a yakuba certificate QR (expected {QR_PREFIX} with {_FIELDS} fields)")
        _, city, kind, serial, issued, digest, signature = parts
        try:
            kind_value = DocumentKind(kind)
            issued_at = dt.datetime.fromtimestamp(int(issued), dt.UTC)
        except ValueError as exc:
            raise ContentMismatchError(f"malformed QR summary: {exc}") from exc
        if not (len(city) == 6 and city.isdigit()) or not SERIAL_PATTERN.fullmatch(serial):
            raise ContentMismatchError("malformed QR summary: city code or serial")
        content_digest = _unb64(digest)
        if len(content_digest) != 32:
            raise ContentMismatchError("malformed QR summary: digest is not SHA-256")
        summary = DocumentSummary(
            city_code=city, kind=kind_value, serial=serial, issued_at=issued_at, content_digest=content_digest
        )
        raw = _unb64(signature)
        if len(raw) != 64:
            raise SignatureInvalidError("QR signature is not a P-256 signature")
        return cls(summary=summary, signature=raw)


def qr_svg(text: str) -> str:
    """The QR code of TEXT as an SVG holding a PNG of one pixel per module, quiet zone included.

    Typst takes per-document image bytes only as SVG text. The PNG is drawn without smoothing
    (`image-rendering: pixelated`), so every module prints as a sharp square at any resolution, like a
    vector path; unlike a path of ~600 rectangles it costs typst and pdfium almost nothing to read, and it
    carries no colour-managed (ICC) fill that pdfium would build a colour transform for.
    """
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_ERROR_CORRECTION)
    modules = barcode.to_image(scale=1, add_quiet_zones=True)
    height, width = modules.shape
    pixels = bytes(memoryview(modules))  # type: ignore[arg-type]  # a buffer at run time; the stub omits it
    out = io.BytesIO()
    # One bit per module: the smallest PNG, and quick to write (modules are exactly 0 or 255, no dithering).
    Image.frombytes("L", (width, height), pixels).convert("1", dither=Image.Dither.NONE).save(out, format="PNG")
    data = base64.b64encode(out.getvalue()).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<image width="{width}" height="{height}" style="image-rendering:pixelated" '
        f'xlink:href="data:image/png;base64,{data}"/></svg>'
    )


def read_qr_texts(image: Image.Image) -> list[str]:
    """Every QR text found in a scan, photo or rendered page (tries the image as is, then enlarged)."""
    grey = image.convert("L")
    formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    attempts = [grey]
    factor = max(2, -(-QR_SCAN_UPSCALE_BELOW // grey.width))
    attempts.append(grey.resize((grey.width * factor, grey.height * factor), Image.Resampling.BICUBIC))
    for attempt in attempts:
        found = [r.text for r in zxingcpp.read_barcodes(attempt, formats=formats) if r.valid]
        if found:
            return found
    return []
