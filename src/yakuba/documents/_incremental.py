"""The signature's incremental update, written directly for the plain one-revision PDFs typst produces.

pyHanko reads the whole PDF into an object model, rewrites the metadata and writes the update through it;
for a certificate that is most of the signing time. A typst PDF is simple (one revision, a classic xref
table, no object streams, no form, no annotations), so the update is written here: the signature
dictionary, its widget, the page with `/Annots` and the catalog with `/AcroForm`, exactly as pyHanko lays
them out (ISO 32000-2 12.8, ETSI EN 319 142-1 PAdES B-B). `SignatureLayout.read` returns None for any
PDF that is not in that shape, and the caller then signs with pyHanko.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SignatureLayout"]

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")
_OBJECT_HEADER = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*")
_SUBSECTION = re.compile(rb"(\d+)\s+(\d+)\s*")
_TRAILER = re.compile(rb"trailer\s*")
_REFERENCE = rb"\s+(\d+)\s+0\s+R"
_SIZE = re.compile(rb"/Size\s+(\d+)")
_ROOT = re.compile(rb"/Root" + _REFERENCE)
_INFO = re.compile(rb"/Info" + _REFERENCE)
_ID = re.compile(rb"/ID\s*\[\s*")
_PAGES = re.compile(rb"/Pages" + _REFERENCE)
_FIRST_KID = re.compile(rb"/Kids\s*\[\s*(\d+)\s+0\s+R")
_PAGE_TYPE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_WHITESPACE = b" \t\r\n\f\x00"

_CATALOG_CONFLICTS = (b"/AcroForm", b"/Extensions", b"/Version", b"/Perms", b"/Collection")
"""Catalog entries the update would have to merge with; a catalog holding any of them goes to pyHanko."""
_TRAILER_CONFLICTS = (b"/Prev", b"/Encrypt", b"/XRefStm")
"""A second revision, encryption or a hybrid xref: not the plain shape."""

_EXTENSIONS = (
    b"/Extensions<</ESIC<</Type/DeveloperExtensions/BaseVersion/1.7/ExtensionLevel 1>>"
    b"/ISO_[<</Type/DeveloperExtensions/BaseVersion/2.0/ExtensionLevel 32002"
    b"/URL(https://www.iso.org/standard/45875.html)/ExtensionRevision(:2022)>>]>>/Version/2.0"
)
"""What pyHanko declares for a PAdES signature with ECDSA: ETSI's ESIC extension and ISO/TS 32002."""

_BYTE_RANGE_WIDTH = 48
"""Room for `[0 a b c]` with offsets up to 10^13; filled in after the layout, padded with spaces."""


def _skip_space(data: bytes, at: int) -> int:
    while at < len(data) and data[at] in _WHITESPACE:
        at += 1
    return at


def _string_end(data: bytes, at: int) -> int:
    """Index after the literal `(...)` or hex `<...>` string starting at AT."""
    if data[at : at + 1] == b"<":
        return data.index(b">", at) + 1
    depth = 0
    while True:
        char = data[at]
        if char == 0x5C:  # backslash: the next byte is escaped
            at += 2
            continue
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return at + 1
        at += 1


def _dictionary_end(data: bytes, at: int) -> int:
    """Index after the `<< ... >>` starting at AT (strings and comments may hold brackets)."""
    depth = 0
    while True:
        char = data[at]
        if char == 0x3C and data[at + 1] == 0x3C:
            depth += 1
            at += 2
        elif char == 0x3E and data[at + 1] == 0x3E:
            depth -= 1
            at += 2
            if depth == 0:
                return at
        elif char in (0x28, 0x3C):
            at = _string_end(data, at)
        elif char == 0x25:  # comment to the end of the line
            at = data.index(b"\n", at)
        else:
            at += 1


def _pdf_text(text: str) -> bytes:
    """A PDF text string as UTF-16BE hex with its byte order mark (any script, no escaping)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


@dataclass(frozen=True, slots=True)
class _Table:
    offsets: dict[int, int]
    trailer: bytes


def _read_xref(pdf: bytes, at: int) -> _Table | None:
    if not pdf.startswith(b"xref", at):
        return None
    at = _skip_space(pdf, at + 4)
    offsets: dict[int, int] = {}
    while not _TRAILER.match(pdf, at):
        header = _SUBSECTION.match(pdf, at)
        if header is None:
            return None
        first, count = int(header[1]), int(header[2])
        at = header.end()
        for number in range(first, first + count):
            entry = pdf[at : at + 20]
            if len(entry) != 20:
                return None
            if entry[17:18] == b"n":
                if entry[11:16] != b"00000":
                    return None  # objects of another generation: not a fresh typst file
                offsets[number] = int(entry[:10])
            at += 20
    at = _skip_space(pdf, _TRAILER.match(pdf, at).end())  # type: ignore[union-attr]
    if not pdf.startswith(b"<<", at):
        return None
    return _Table(offsets=offsets, trailer=pdf[at : _dictionary_end(pdf, at)])


def _read_dictionary(pdf: bytes, table: _Table, number: int) -> bytes | None:
    """The inside of object NUMBER's dictionary (between `<<` and `>>`), if it is a plain dictionary."""
    offset = table.offsets.get(number)
    if offset is None:
        return None
    header = _OBJECT_HEADER.match(pdf, offset)
    if header is None or int(header[1]) != number or header[2] != b"0" or not pdf.startswith(b"<<", header.end()):
        return None
    end = _dictionary_end(pdf, header.end())
    if not pdf.startswith(b"endobj", _skip_space(pdf, end)):
        return None  # a stream, not a plain dictionary
    return pdf[header.end() + 2 : end - 2]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureLayout:
    """Where a plain PDF's catalog, first page and trailer are: enough to append a signature update."""

    xref_offset: int
    size: int
    root: int
    info: int | None
    first_id: bytes
    catalog: bytes
    page: int
    page_entries: bytes

    @classmethod
    def read(cls, pdf: bytes) -> SignatureLayout | None:
        """The layout of PDF, or None when it is not a plain one-revision file (then pyHanko signs it)."""
        try:
            return cls._read(pdf)
        except (ValueError, IndexError):
            return None  # truncated or malformed: pyHanko reports it properly

    @classmethod
    def _read(cls, pdf: bytes) -> SignatureLayout | None:
        tail = _STARTXREF.search(pdf, max(0, len(pdf) - 64))
        if tail is None:
            return None
        xref_offset = int(tail[1])
        table = _read_xref(pdf, xref_offset)
        if table is None or any(key in table.trailer for key in _TRAILER_CONFLICTS):
            return None
        size, root, ids = _SIZE.search(table.trailer), _ROOT.search(table.trailer), _ID.search(table.trailer)
        info = _INFO.search(table.trailer)
        if size is None or root is None or ids is None:
            return None
        first_id = table.trailer[ids.end() : _string_end(table.trailer, ids.end())]
        catalog = _read_dictionary(pdf, table, int(root[1]))
        if catalog is None or any(key in catalog for key in _CATALOG_CONFLICTS):
            return None
        pages_ref = _PAGES.findall(catalog)
        if len(pages_ref) != 1:
            return None
        pages = _read_dictionary(pdf, table, int(pages_ref[0]))
        kid = _FIRST_KID.search(pages) if pages is not None else None
        if kid is None:
            return None
        page = _read_dictionary(pdf, table, int(kid[1]))
        if page is None or not _PAGE_TYPE.search(page) or b"/Annots" in page:
            return None
        return cls(
            xref_offset=xref_offset,
            size=int(size[1]),
            root=int(root[1]),
            info=int(info[1]) if info is not None else None,
            first_id=first_id,
            catalog=catalog,
            page=int(kid[1]),
            page_entries=page,
        )

    def sign(
        self,
        pdf: bytes,
        *,
        field: str,
        reason: str,
        location: str,
        reserved_hex: int,
        cms: Callable[[bytes], bytes],
        now: dt.datetime | None = None,
    ) -> bytes:
        """PDF with a signature update appended; CMS(sha256 of the signed byte ranges) gives the container DER."""
        signature, widget = self.size, self.size + 1
        out = bytearray(pdf)
        if not pdf.endswith(b"\n"):
            out += b"\n"
        offsets: dict[int, int] = {}

        def write(number: int, body: bytes) -> None:
            offsets[number] = len(out)
            out.extend(b"%d 0 obj\n%b\nendobj\n" % (number, body))

        write(self.page, b"<<%b/Annots[%d 0 R]>>" % (self.page_entries, widget))
        write(self.root, b"<<%b/AcroForm<</Fields[%d 0 R]/SigFlags 3>>%b>>" % (self.catalog, widget, _EXTENSIONS))
        write(
            widget,
            b"<</FT/Sig/T%b/Type/Annot/Subtype/Widget/F 132/Rect[0 0 0 0]/P %d 0 R/V %d 0 R>>"
            % (_pdf_text(field), self.page, signature),
        )
        signed_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
        offsets[signature] = len(out)
        out.extend(
            b"%d 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/M(%b)/Location%b/Reason%b"
            b"/ByteRange" % (signature, signed_at.encode("ascii"), _pdf_text(location), _pdf_text(reason))
        )
        range_at = len(out)
        out.extend(b" " * _BYTE_RANGE_WIDTH + b"/Contents ")
        contents_at = len(out)
        out.extend(b"<" + b"0" * reserved_hex + b">")
        contents_end = len(out)
        out.extend(b">>\nendobj\n")
        xref_at = len(out)
        out.extend(b"xref\n0 1\n0000000000 65535 f \n")
        for number in sorted(offsets):
            out.extend(b"%d 1\n%010d 00000 n \n" % (number, offsets[number]))
        info = b"/Info %d 0 R" % self.info if self.info is not None else b""
        out.extend(
            b"trailer\n<</Size %d/Root %d 0 R%b/ID[%b<%b>]/Prev %d>>\nstartxref\n%d\n%%%%EOF\n"
            % (widget + 1, self.root, info, self.first_id, secrets.token_hex(16).encode(), self.xref_offset, xref_at)
        )
        byte_range = b"[0 %d %d %d]" % (contents_at, contents_end, len(out) - contents_end)
        out[range_at : range_at + len(byte_range)] = byte_range
        with memoryview(out) as view:
            digest = hashlib.sha256(view[:contents_at])
            digest.update(view[contents_end:])
        container = cms(digest.digest()).hex().encode("ascii")
        if len(container) > reserved_hex:
            raise ValueError(f"the CMS container ({len(container) // 2} bytes) exceeds the reserved space")
        out[contents_at + 1 : contents_at + 1 + len(container)] = container
        return bytes(out)
