"""The recorder's conditions: provisions on record, every card placed, retention kept, every view with a purpose."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from yakuba.audit import AuditEntry
from yakuba.council.checks._verdict import Evidence, broken, cannot_tell
from yakuba.recorder.service import MINIMUM_RETENTION

if TYPE_CHECKING:
    from yakuba.recorder import Recorder

__all__ = [
    "EMPTY_PURPOSE_DIGESTS",
    "ERASE_GRACE",
    "ProvisionLike",
    "ProvisionRegister",
    "check_media_ledger",
    "check_provisions",
    "check_retention_window",
    "check_views_have_purpose",
    "provision_register",
]

DECIDING_ROLE = "section_chief"
"""The council: the section chief (担当課長) decides each external provision, and how is on record."""

ERASE_GRACE = dt.timedelta(hours=1)
"""Footage may outlive its erase-at by one sweep interval (the sweep runs hourly) before it counts as kept too long."""

EMPTY_PURPOSE_DIGESTS = frozenset(hashlib.sha256(s.encode()).hexdigest() for s in ("", " ", "　"))
"""A view whose recorded purpose hashes to one of these had no purpose."""


class ProvisionLike(Protocol):
    """The shape of the recorder's provision summary (`Recorder.provisions`) this check reads."""

    @property
    def request_no(self) -> str: ...
    @property
    def legal_basis(self) -> str: ...
    @property
    def received_at(self) -> dt.datetime: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def decided_by_role(self) -> str | None: ...
    @property
    def decided_at(self) -> dt.datetime | None: ...
    @property
    def return_due(self) -> dt.datetime | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvisionRegister:
    """The provisions of a period, or why they could not be read."""

    provisions: tuple[Any, ...]
    available: bool
    reason: str = ""


def provision_register(recorder: Recorder, *, since: dt.datetime, until: dt.datetime) -> ProvisionRegister:
    """The recorder's external-provision register for requests received in [SINCE, UNTIL)."""
    from yakuba.recorder import provisions

    return ProvisionRegister(provisions=tuple(provisions(recorder, since=since, until=until)), available=True)


def check_provisions(register: ProvisionRegister) -> Evidence:
    """Every external provision follows the written procedure.

    1. It has a request number and a legal basis (stops footage leaving on an informal ask).
    2. Once granted, it was decided by the section chief, with a time (the council: how it was decided is
       on record).
    3. Once granted, it has a return (or destruction) date (the council: how long a lent copy stays out).
    """
    if not register.available:
        raise cannot_tell([register.reason])
    failures: list[str] = []
    counts: dict[str, int] = {}
    for p in register.provisions:
        ref = f"provision {p.request_no or '?'}"
        counts[str(p.decision)] = counts.get(str(p.decision), 0) + 1
        if not p.request_no or not p.legal_basis:  # step 1
            failures.append(f"{ref}: no request number or legal basis")
        if p.decision is None:
            continue
        if p.decided_by_role != DECIDING_ROLE or p.decided_at is None:  # step 2
            failures.append(f"{ref}: decision {p.decision} not recorded as the section chief's")
        if p.decision in ("approved", "partly_approved") and p.return_due is None:  # step 3
            failures.append(f"{ref}: provided with no return date")
    if failures:
        raise broken(failures)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    return (f"{len(register.provisions)} provisions, each with request, basis, decision and return date ({summary})",)


def check_media_ledger(*, cards: Sequence[Any], alerts: Sequence[Any]) -> Evidence:
    """Every SD card is in the ledger with a known place and no overdue hand-over.

    1. The ledger is not empty (a ledger with no cards proves nothing).
    2. No card alert: no card without a known place, no card lent out past its due date (stops the loss of
       small media the council warned about).
    """
    if not cards:  # step 1
        raise cannot_tell(["the media ledger holds no cards"])
    if alerts:  # step 2
        raise broken(
            [f"card {a.card_id}: {a.problem}" + (f" ({a.ledger_place})" if a.ledger_place else "") for a in alerts]
        )
    places: dict[str, int] = {}
    for card in cards:
        places[card.place.value] = places.get(card.place.value, 0) + 1
    return (f"{len(cards)} cards, every one placed: " + ", ".join(f"{k} {v}" for k, v in sorted(places.items())),)


def check_retention_window(
    *, erased: Iterable[AuditEntry], overdue: int, kept_by_hold: int, minimum: dt.timedelta = MINIMUM_RETENTION
) -> Evidence:
    """Footage is kept at least the minimum and not past its maximum.

    1. From the audit log: no footage.erased entry erased a segment less than MINIMUM after its end
       (stops evidence lost before anyone could ask for it).
    2. From the store: no segment is past its erase-at by more than ERASE_GRACE without a hold (OVERDUE
       counts those; stops footage kept beyond the week).
    """
    failures: list[str] = []
    count = 0
    for entry in erased:  # step 1
        count += 1
        end = entry.fields.get("end")
        if not isinstance(end, str):
            failures.append(f"erasure at {entry.time.isoformat()}: no segment end on record")
            continue
        kept = entry.time - dt.datetime.fromisoformat(end)
        if kept < minimum:
            failures.append(f"segment {entry.fields.get('sha256', '?')!s:.12} erased after {kept}, under {minimum}")
    if overdue:  # step 2
        failures.append(f"{overdue} segments are past their maximum retention and still stored")
    if failures:
        raise broken(failures)
    return (f"{count} erasures, none early; none overdue; {kept_by_hold} kept by holds",)


def check_views_have_purpose(viewed: Iterable[AuditEntry]) -> Evidence:
    """Every view of footage has a purpose and rests on an incident hold.

    1. Each footage.viewed entry names its basis hold (footage is looked at only after an incident).
    2. Its recorded purpose digest is not that of an empty purpose.
    """
    failures: list[str] = []
    count = 0
    for entry in viewed:
        count += 1
        where = f"view at {entry.time.isoformat()} of segment {entry.fields.get('segment_id', '?')}"
        if entry.fields.get("basis_hold_id") in (None, ""):  # step 1
            failures.append(f"{where}: no basis hold")
        digest = entry.fields.get("purpose_sha256")
        if not isinstance(digest, str) or digest in EMPTY_PURPOSE_DIGESTS:  # step 2
            failures.append(f"{where}: no purpose")
    if failures:
        raise broken(failures)
    return (f"{count} views, each with a purpose and an incident hold",)
