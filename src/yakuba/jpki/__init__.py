"""The JPKI status service (公的個人認証サービス): the card CRL and batch certificate status, for the center."""

from yakuba.jpki.app import create_app, listen_segment
from yakuba.jpki.client import MAX_CRL_BYTES, CrlFetch, JpkiClient
from yakuba.jpki.service import MAX_STATUS_BATCH, CardStatus, CrlSnapshot, JpkiService

__all__ = [
    "MAX_CRL_BYTES",
    "MAX_STATUS_BATCH",
    "CardStatus",
    "CrlFetch",
    "CrlSnapshot",
    "JpkiClient",
    "JpkiService",
    "create_app",
    "listen_segment",
]
