"""Certificates as documents: content models, layouts, city seal, signed QR, PAdES signature, verification."""

from yakuba.documents._engine import RenderEngine
from yakuba.documents._fonts import FontSet
from yakuba.documents._models import (
    AddressHistoryEntry,
    DocumentContent,
    DocumentHeader,
    DocumentKind,
    DocumentRequest,
    FuhyoContent,
    FuhyoPerson,
    IncomeCertificateContent,
    KosekiContent,
    KosekiEvent,
    KosekiPerson,
    ResidentMember,
    ResidentRecordContent,
    ResidentRecordItemsContent,
    ResidentRecordOptions,
    SealCertificateContent,
    TaxCertificateContent,
)
from yakuba.documents._pipeline import IssuedDocument, issue_document
from yakuba.documents._render import CertifiedView, certified_view
from yakuba.documents._sample_files import write_sample_documents
from yakuba.documents._sample_pki import sample_pki
from yakuba.documents._samples import SAMPLE_CITY, sample_request
from yakuba.documents._signing import DocumentSigner
from yakuba.documents._status import SerialStatus
from yakuba.documents._summary import DocumentSummary, SignedSummary
from yakuba.documents._verify import (
    DocumentTrust,
    VerifiedDocument,
    verify_document,
    verify_qr_text,
    verify_scan,
)

__all__ = [
    "SAMPLE_CITY",
    "AddressHistoryEntry",
    "CertifiedView",
    "DocumentContent",
    "DocumentHeader",
    "DocumentKind",
    "DocumentRequest",
    "DocumentSigner",
    "DocumentSummary",
    "DocumentTrust",
    "FontSet",
    "FuhyoContent",
    "FuhyoPerson",
    "IncomeCertificateContent",
    "IssuedDocument",
    "KosekiContent",
    "KosekiEvent",
    "KosekiPerson",
    "RenderEngine",
    "ResidentMember",
    "ResidentRecordContent",
    "ResidentRecordItemsContent",
    "ResidentRecordOptions",
    "SealCertificateContent",
    "SerialStatus",
    "SignedSummary",
    "TaxCertificateContent",
    "VerifiedDocument",
    "certified_view",
    "issue_document",
    "sample_pki",
    "sample_request",
    "verify_document",
    "verify_qr_text",
    "verify_scan",
    "write_sample_documents",
]
