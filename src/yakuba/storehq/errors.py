"""The errors the store HQ gateway raises, each a subclass of the one yakuba error tree."""

from __future__ import annotations

from yakuba.errors import AuthorizationError, NotFoundError, TransactionConflictError

__all__ = ["KioskNotServedError", "TransactionConflictError", "UnknownTransactionError"]


class KioskNotServedError(AuthorizationError):
    """The caller is not a kiosk of this chain, or its request names another kiosk than itself."""

    code = "kiosk_not_served"
    message_ja = "この端末からの要求は受け付けられません。店員にお知らせください。"
    message_en = "Requests from this terminal are not accepted. Please tell the store staff."


class UnknownTransactionError(NotFoundError):
    """A completion names a transaction this HQ never relayed for the calling kiosk."""

    code = "unknown_transaction"
    message_ja = "この取引は記録されていません。"
    message_en = "This transaction is not on record."
