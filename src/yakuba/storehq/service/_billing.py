"""The store HQ's billing values: a billing line, its status and closing, and the completion it reports."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from yakuba.clock import JST
from yakuba.wire.messages import Outcome, TaggedCompletion

__all__ = [
    "BILLING_TIMEZONE",
    "BillingLine",
    "BillingStatus",
    "Closing",
    "completion_of",
]

BILLING_TIMEZONE = JST
"""A billing line belongs to the store's business day, the Japanese calendar day (settlement is per day and month)."""


class BillingStatus(enum.StrEnum):
    """Where a billing line stands."""

    PENDING = "pending"
    """Relayed; the kiosk has not reported the outcome yet."""
    PRINTED = "printed"
    """At least one copy printed; the fee for the printed copies was collected."""
    VOIDED = "voided"
    """Every copy jammed and was voided; nothing collected."""
    ABANDONED = "abandoned"
    """Refused or cancelled before printing; nothing collected."""


_STATUS_OF_OUTCOME = {
    Outcome.PRINTED: BillingStatus.PRINTED,
    Outcome.JAM_VOIDED: BillingStatus.VOIDED,
    Outcome.ABANDONED: BillingStatus.ABANDONED,
}
_OUTCOME_OF_STATUS = {status: outcome for outcome, status in _STATUS_OF_OUTCOME.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingLine:
    """One transaction as the HQ bills it: ids, day, city, kind, copies, fee, status. Nothing personal.

    ``submission_digest`` is the SHA-256 of the kiosk's submission: it recognises a retry without keeping the
    submission (whose card certificate is personal data outside the city).
    """

    transaction_id: str
    chain_id: str
    kiosk_id: str
    business_day: dt.date
    city: str
    kind: str
    copies: int
    submission_digest: bytes
    status: BillingStatus
    opened_at: dt.datetime
    fee_per_copy: int | None = None
    issuer_id: str | None = None
    copies_printed: int = 0
    copies_voided: int = 0
    amount_yen: int = 0
    reason: str = ""
    closed_at: dt.datetime | None = None
    reported_at: dt.datetime | None = None
    """When the center answered the completion report (accepted, or refused for good: see report_error)."""
    report_error: str | None = None
    """The code of the center's final refusal of the report: never sent again; an operator must look."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Closing:
    """How a pending line closes, as the kiosk reported it and the HQ priced it."""

    status: BillingStatus
    copies_printed: int
    copies_voided: int
    amount_yen: int
    reason: str
    closed_at: dt.datetime


def completion_of(line: BillingLine) -> TaggedCompletion:
    """The completion report of a closed LINE, as the center, the forwarder and the issuer take it: outcome,
    counts and reason as the kiosk reported them, chain, kiosk, city and kind from the line itself."""
    if line.status is BillingStatus.PENDING:
        raise ValueError("a pending line has no completion to report")
    return TaggedCompletion(
        transaction_id=line.transaction_id,
        outcome=_OUTCOME_OF_STATUS[line.status],
        copies_printed=line.copies_printed,
        copies_voided=line.copies_voided,
        reason=line.reason,
        chain_id=line.chain_id,
        kiosk_id=line.kiosk_id,
        city=line.city,
        kind=line.kind,
    )
