"""The certificate kinds and their content models: frozen values a layout turns into pages."""

from __future__ import annotations

from dataclasses import dataclass

from yakuba.documents._models._header import (
    INDIVIDUAL_NUMBER_PATTERN,
    SERIAL_PATTERN,
    DocumentHeader,
    DocumentKind,
    require,
)
from yakuba.documents._models._koseki import (
    AddressHistoryEntry,
    FuhyoContent,
    FuhyoPerson,
    KosekiContent,
    KosekiEvent,
    KosekiPerson,
)
from yakuba.documents._models._residence import (
    ResidentMember,
    ResidentRecordContent,
    ResidentRecordItemsContent,
    ResidentRecordOptions,
    SealCertificateContent,
)
from yakuba.documents._models._tax import IncomeCertificateContent, TaxCertificateContent

__all__ = [
    "INDIVIDUAL_NUMBER_PATTERN",
    "SERIAL_PATTERN",
    "AddressHistoryEntry",
    "DocumentContent",
    "DocumentHeader",
    "DocumentKind",
    "DocumentRequest",
    "FuhyoContent",
    "FuhyoPerson",
    "IncomeCertificateContent",
    "KosekiContent",
    "KosekiEvent",
    "KosekiPerson",
    "ResidentMember",
    "ResidentRecordContent",
    "ResidentRecordItemsContent",
    "ResidentRecordOptions",
    "SealCertificateContent",
    "TaxCertificateContent",
]


DocumentContent = (
    ResidentRecordContent
    | ResidentRecordItemsContent
    | SealCertificateContent
    | TaxCertificateContent
    | IncomeCertificateContent
    | KosekiContent
    | FuhyoContent
)
"""Every content model; the header's kind says which layout renders it."""

_CONTENT_FOR_KIND: dict[DocumentKind, type] = {
    DocumentKind.RESIDENT_RECORD: ResidentRecordContent,
    DocumentKind.RESIDENT_RECORD_ITEMS: ResidentRecordItemsContent,
    DocumentKind.SEAL_REGISTRATION: SealCertificateContent,
    DocumentKind.TAX: TaxCertificateContent,
    DocumentKind.INCOME: IncomeCertificateContent,
    DocumentKind.KOSEKI_FULL: KosekiContent,
    DocumentKind.KOSEKI_INDIVIDUAL: KosekiContent,
    DocumentKind.FUHYO: FuhyoContent,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRequest:
    """One certificate to issue: its header and its content, checked to belong together."""

    header: DocumentHeader
    content: DocumentContent

    def __post_init__(self) -> None:
        expected = _CONTENT_FOR_KIND[self.header.kind]
        require(
            isinstance(self.content, expected),
            f"kind {self.header.kind} needs {expected.__name__}, got {type(self.content).__name__}",
            "証明書の種類と内容が一致しません",
        )

    @property
    def kind(self) -> DocumentKind:
        return self.header.kind
