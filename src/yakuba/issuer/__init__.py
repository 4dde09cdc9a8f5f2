"""The city's certificate issuance server (証明発行サーバ): verifies, decides, renders, seals and logs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yakuba.issuer.app import build_service, create_app, listen_segment
    from yakuba.issuer.errors import (
        CardNotRegisteredError,
        KindNotServedError,
        NotPrintableError,
        TransactionClosedError,
        TransactionConflictError,
        TransactionInProgressError,
    )
    from yakuba.issuer.log_entry import DocumentStatus, EntryStatus, LogEntry
    from yakuba.issuer.service import IssuerService
    from yakuba.issuer.store import IssuanceLogStore

__all__ = [
    "CardNotRegisteredError",
    "DocumentStatus",
    "EntryStatus",
    "IssuanceLogStore",
    "IssuerService",
    "KindNotServedError",
    "LogEntry",
    "NotPrintableError",
    "TransactionClosedError",
    "TransactionConflictError",
    "TransactionInProgressError",
    "build_service",
    "create_app",
    "listen_segment",
]

# Loaded on first use: the errors alone (which a relay imports to map error bodies back) must not pull in
# the document pipeline and the registry.
_HOME = {
    "build_service": "app",
    "create_app": "app",
    "listen_segment": "app",
    "CardNotRegisteredError": "errors",
    "KindNotServedError": "errors",
    "NotPrintableError": "errors",
    "TransactionClosedError": "errors",
    "TransactionConflictError": "errors",
    "TransactionInProgressError": "errors",
    "DocumentStatus": "log_entry",
    "EntryStatus": "log_entry",
    "IssuerService": "service",
    "LogEntry": "log_entry",
    "IssuanceLogStore": "store",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'yakuba.issuer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"yakuba.issuer.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
