"""Errors of the issuance center, in the one error tree.

Each keeps its parent's code, so every relay (HQ, kiosk) maps it back to a class it knows and shows its
message; the message says which case it is.
"""

from __future__ import annotations

from yakuba.errors import (
    AuthorizationError,
    NotFoundError,
    ServiceClosedError,
    TransactionConflictError,
    VerificationError,
)

__all__ = [
    "CityNotParticipatingError",
    "CitySuspendedError",
    "KindNotOfferedError",
    "KioskNotServedError",
    "TransactionConflictError",
    "TransactionMismatchError",
]


class CityNotParticipatingError(NotFoundError):
    """The city does not take part in kiosk issuance (not a city of this deployment)."""

    message_ja = "この市区町村はコンビニ交付に参加していません。"
    message_en = "This city is not participating in kiosk issuance."


class KindNotOfferedError(NotFoundError):
    """The city does not offer this certificate at kiosks."""

    message_ja = "この証明書は、この市区町村ではコンビニ交付を行っていません。窓口をご利用ください。"
    message_en = "This city does not issue this certificate at kiosks. Please use the city office counter."


class KioskNotServedError(AuthorizationError):
    """The calling store HQ does not serve that kiosk (or is not the chain it claims)."""

    message_ja = "この端末からは利用できません。"
    message_en = "The calling store network does not serve this kiosk."


class TransactionMismatchError(VerificationError):
    """A completion report does not match the transaction it names (chain, kiosk, city, kind or copies)."""

    message_ja = "取引の内容が一致しません。"
    message_en = "The report does not match the transaction."


class CitySuspendedError(ServiceClosedError):
    """Issuance for this city is stopped after an integrity error, until an operator resumes it."""

    message_ja = "この市区町村の証明書交付は現在停止しています。市区町村の窓口にお問い合わせください。"
    message_en = "Issuance for this city is suspended. Please contact the city office."
