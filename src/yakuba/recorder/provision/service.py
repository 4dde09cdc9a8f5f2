"""External provision of footage: the request register's values and rules, free of SQL, HTTP and video."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from yakuba.errors import ValidationError
from yakuba.recorder.errors import ProvisionDecisionError, ProvisionStateError
from yakuba.recorder.service import Staff, StaffRole

__all__ = [
    "CASE_BY_CASE_BASES",
    "LENDING_PERIOD",
    "MAX_LENDING_PERIOD",
    "MAX_WINDOW",
    "MIN_REASON_CHARS",
    "Decision",
    "LegalBasis",
    "ProvisionRecord",
    "ProvisionStatus",
    "ProvisionSummary",
    "RequestWindow",
    "RequesterKind",
    "ReturnKind",
    "check_decision",
    "check_window",
    "overdue",
    "return_due",
    "summarize",
]

LENDING_PERIOD = dt.timedelta(days=90)
"""貸出年限, the policy value the council asked the city to define: a lent copy is returned or destroyed within
90 days of the decision unless the section chief sets a shorter date (an investigation rarely needs longer)."""

MAX_LENDING_PERIOD = dt.timedelta(days=365)
"""No lent copy stays out longer than a year: past that it is renewed by a new request, with a new decision."""

MAX_WINDOW = dt.timedelta(hours=2)
"""One requested window covers at most two hours: a request for more is a fishing expedition, not an incident."""

MIN_REASON_CHARS = 4
"""Reasons and purposes are written words, not a blank or a single character."""


class RequesterKind(enum.StrEnum):
    POLICE = "police"  # 警察署
    BAR_ASSOCIATION = "bar_association"  # 弁護士会
    COURT = "court"  # 裁判所
    ACCIDENT_PARTY = "accident_party"  # 事故の当事者
    DATA_SUBJECT = "data_subject"  # the person filmed (本人)


class LegalBasis(enum.StrEnum):
    CCP_197_2 = "ccp_197_2"  # 捜査関係事項照会, Code of Criminal Procedure art. 197(2)
    ATTORNEY_ACT_23_2 = "attorney_act_23_2"  # 弁護士会照会, Attorney Act art. 23-2
    COURT_ORDER = "court_order"  # 裁判所の命令・嘱託
    OWN_DISCLOSURE = "own_disclosure"  # 本人開示請求
    ACCIDENT_PARTY = "accident_party"  # 事故当事者からの依頼


CASE_BY_CASE_BASES = frozenset({LegalBasis.ATTORNEY_ACT_23_2})
"""Council rule: bar-association inquiries are answered case by case; the register flags them."""


class Decision(enum.StrEnum):
    APPROVED = "approved"
    PARTLY_APPROVED = "partly_approved"
    REFUSED = "refused"


class ProvisionStatus(enum.StrEnum):
    RECEIVED = "received"  # footage held, awaiting the section chief
    REFUSED = "refused"  # nothing is exported
    APPROVED = "approved"  # may be exported
    EXPORTED = "exported"  # clips cut; blurred clips await review
    LENT = "lent"  # signed package handed over; returned or destroyed by return_due
    RETURNED = "returned"  # returned or destruction certified
    CLOSED = "closed"  # holds released by an explicit, audited action


class ReturnKind(enum.StrEnum):
    RETURNED = "returned"
    DESTROYED = "destroyed"  # with the recipient's certificate of destruction


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestWindow:
    """One vehicle's footage over an exact window [start, end); APPROVED is set by the decision."""

    vehicle_id: str
    start: dt.datetime
    end: dt.datetime
    window_id: int = 0
    hold_id: int | None = None
    approved: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvisionRecord:
    """One row of the request register, as the store holds it (requester's name and texts included)."""

    request_no: str
    form_no: str
    requester_kind: RequesterKind
    requester_name: str
    legal_basis: LegalBasis
    purpose: str
    deadline: dt.date | None
    received_at: dt.datetime
    received_by: str
    case_by_case: bool
    status: ProvisionStatus
    windows: tuple[RequestWindow, ...]
    keep_audio: bool = False
    blur: bool = False
    decision: Decision | None = None
    reasons: str | None = None
    decided_by: str | None = None
    decided_by_role: str | None = None
    decided_at: dt.datetime | None = None
    return_due: dt.date | None = None
    lent_at: dt.datetime | None = None
    returned_or_destroyed_at: dt.datetime | None = None
    return_kind: ReturnKind | None = None
    closed_at: dt.datetime | None = None
    export_dir: str | None = None
    flagged_frames: int | None = None
    reviewed_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvisionSummary:
    """One provision in the register report: no requester name, purpose or reasons (personal data stays out)."""

    request_no: str
    form_no: str
    requester_kind: str
    legal_basis: str
    case_by_case: bool
    received_at: dt.datetime
    decision: str | None
    decided_by_role: str | None
    decided_at: dt.datetime | None
    windows: int
    windows_approved: int
    return_due: dt.date | None
    returned_or_destroyed_at: dt.datetime | None
    return_kind: str | None
    status: str
    overdue: bool


def check_window(window: RequestWindow) -> None:
    """Raise ValidationError unless the window is exact (timezone-aware), ordered and not too long."""
    if window.start.tzinfo is None or window.end.tzinfo is None:
        raise ValidationError("a requested window needs times with their timezone")
    if window.end <= window.start:
        raise ValidationError("a requested window ends after it starts")
    if window.end - window.start > MAX_WINDOW:
        raise ValidationError(f"a requested window is at most {MAX_WINDOW}; split or narrow the request")


def check_decision(
    *,
    record: ProvisionRecord,
    decider: Staff,
    decision: Decision,
    reasons: str,
    approved_windows: Sequence[int] | None,
    return_due: dt.date | None,
    today: dt.date,
) -> frozenset[int]:
    """The window ids approved, after checking the decision may be made.

    1. The decider is the section chief (課長): stops a supervisor or clerk handing footage out.
    2. Reasons are written (the council asked that how it was decided be on record).
    3. The request is still awaiting a decision: stops a second, contradictory decision.
    4. Approved windows: all for APPROVED, a proper non-empty subset for PARTLY_APPROVED, none for REFUSED.
    5. The return date lies within the lending period (貸出年限) and is not in the past.
    """
    if decider.role is not StaffRole.SECTION_CHIEF:  # step 1
        raise ProvisionDecisionError(f"role {decider.role.value} may not decide a provision")
    if len(reasons.strip()) < MIN_REASON_CHARS:  # step 2
        raise ProvisionDecisionError("a decision needs written reasons", ja="決定の理由を記入してください。")
    if record.status is not ProvisionStatus.RECEIVED:  # step 3
        raise ProvisionStateError(f"request {record.request_no} is {record.status.value}, not awaiting a decision")
    all_ids = frozenset(w.window_id for w in record.windows)  # step 4
    if decision is Decision.REFUSED:
        chosen: frozenset[int] = frozenset()
    elif decision is Decision.APPROVED:
        chosen = all_ids
    else:
        chosen = frozenset(approved_windows or ())
        if not chosen or not chosen < all_ids:
            raise ValidationError("a partial approval names some, not all, of the request's window ids")
    in_period = return_due is None or today <= return_due <= today + MAX_LENDING_PERIOD
    if decision is not Decision.REFUSED and not in_period:  # step 5
        raise ValidationError(f"the return date must be between today and {MAX_LENDING_PERIOD.days} days on")
    return chosen


def return_due(*, decided_on: dt.date, requested: dt.date | None) -> dt.date:
    """The return-or-destroy date: the section chief's date, else the policy lending period."""
    return requested if requested is not None else decided_on + LENDING_PERIOD


def overdue(record: ProvisionRecord, *, today: dt.date) -> bool:
    """A lent copy past its date and neither returned nor certified destroyed."""
    return (
        record.return_due is not None
        and record.status is ProvisionStatus.LENT
        and record.returned_or_destroyed_at is None
        and today > record.return_due
    )


def summarize(records: Iterable[ProvisionRecord], *, today: dt.date) -> list[ProvisionSummary]:
    return [
        ProvisionSummary(
            request_no=r.request_no,
            form_no=r.form_no,
            requester_kind=r.requester_kind.value,
            legal_basis=r.legal_basis.value,
            case_by_case=r.case_by_case,
            received_at=r.received_at,
            decision=None if r.decision is None else r.decision.value,
            decided_by_role=r.decided_by_role,
            decided_at=r.decided_at,
            windows=len(r.windows),
            windows_approved=sum(1 for w in r.windows if w.approved),
            return_due=r.return_due,
            returned_or_destroyed_at=r.returned_or_destroyed_at,
            return_kind=None if r.return_kind is None else r.return_kind.value,
            status=r.status.value,
            overdue=overdue(r, today=today),
        )
        for r in records
    ]
