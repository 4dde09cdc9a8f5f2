"""Errors of the certificate issuer: unknown cards, transactions seen before, kinds it does not hold."""

from __future__ import annotations

from yakuba.errors import NotFoundError, TransactionConflictError, ValidationError, YakubaError

__all__ = [
    "CardNotRegisteredError",
    "KindNotServedError",
    "NotPrintableError",
    "TransactionClosedError",
    "TransactionConflictError",
    "TransactionInProgressError",
]


class CardNotRegisteredError(NotFoundError):
    """The card is not bound to a resident of this city (or, for 本籍地, has no 利用登録 here)."""

    code = "card_not_registered"
    message_ja = (
        "このカードはこの市区町村に登録されていません。お住まいの（または本籍地の）市区町村にお問い合わせください。"
    )
    message_en = "This card is not registered in this city. Please ask the city you live in (or of your 本籍)."


class KindNotServedError(NotFoundError):
    """The certificate kind is not held by this issuer's system, or not offered for the chosen basis."""

    code = "kind_not_served"
    message_ja = "この証明書はこの窓口では発行できません。"
    message_en = "This certificate is not issued here."


class NotPrintableError(ValidationError):
    """A registry value does not fit its field on the certificate; refused, never cut off (no value on the wire)."""

    code = "field_too_long"
    message_ja = "証明書の欄に収まらない項目があるため発行できません。窓口にお問い合わせください。"
    message_en = "A value does not fit its field on the certificate; please ask at the city office."


class TransactionInProgressError(YakubaError):
    """The same transaction is being issued right now; the first request will answer it."""

    code = "transaction_in_progress"
    http_status = 409
    message_ja = "同じ取引を処理中です。しばらくしてからやり直してください。"
    message_en = "This transaction is being processed. Please try again shortly."


class TransactionClosedError(YakubaError):
    """The transaction failed or was completed already; a new transaction is needed."""

    code = "transaction_closed"
    http_status = 409
    message_ja = "この取引は終了しています。最初からやり直してください。"
    message_en = "This transaction has ended. Please start again."
