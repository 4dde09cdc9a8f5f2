"""Store functions for seal registrations (印鑑登録); always read live, never cached."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.orm import Session

from yakuba.registry._values import SealRegistration, SealStatus
from yakuba.registry.store._schema import seal_registrations

__all__ = [
    "SEAL_NUMBER_DIGITS",
    "deregister_seal",
    "fetch_live_seal",
    "fetch_seals_of_person",
    "insert_seal",
]

SEAL_NUMBER_DIGITS = 8
"""Registration numbers are printed on the registration card (印鑑登録証) as 8 digits, zero-padded."""


def _seal_from_row(row: RowMapping) -> SealRegistration:
    return SealRegistration(
        registration_number=row["registration_number"],
        person_id=row["person_id"],
        impression_png=bytes(row["impression_png"]),
        impression_sha256=row["impression_sha256"],
        registered_at=row["registered_at"],
        deregistered_at=row["deregistered_at"],
        status=SealStatus(row["status"]),
    )


def fetch_live_seal(session: Session, person_id: int) -> SealRegistration | None:
    """The person's live registration, read now from the registry of record; None when there is none."""
    query = select(seal_registrations).where(
        seal_registrations.c.person_id == person_id,
        seal_registrations.c.status == SealStatus.REGISTERED.value,
    )
    row = session.execute(query).mappings().first()
    return None if row is None else _seal_from_row(row)


def fetch_seals_of_person(session: Session, person_id: int) -> tuple[SealRegistration, ...]:
    """Every registration of the person, oldest first."""
    query = (
        select(seal_registrations).where(seal_registrations.c.person_id == person_id).order_by(seal_registrations.c.id)
    )
    return tuple(_seal_from_row(r) for r in session.execute(query).mappings())


def insert_seal(session: Session, *, person_id: int, impression_png: bytes, at: dt.datetime) -> SealRegistration:
    """Register a seal with the next registration number."""
    last = session.execute(select(func.max(seal_registrations.c.id))).scalar_one()
    number = str((last or 0) + 1).zfill(SEAL_NUMBER_DIGITS)
    values = {
        "registration_number": number,
        "person_id": person_id,
        "impression_png": impression_png,
        "impression_sha256": hashlib.sha256(impression_png).hexdigest(),
        "registered_at": at,
        "status": SealStatus.REGISTERED.value,
    }
    session.execute(insert(seal_registrations).values(**values))
    live = fetch_live_seal(session, person_id)
    assert live is not None
    return live


def deregister_seal(session: Session, *, registration_number: str, at: dt.datetime, reason: str) -> None:
    """Mark the registration de-registered (廃止) at AT."""
    session.execute(
        update(seal_registrations)
        .where(seal_registrations.c.registration_number == registration_number)
        .values(status=SealStatus.DEREGISTERED.value, deregistered_at=at, deregistration_reason=reason)
    )
