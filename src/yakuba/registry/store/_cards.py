"""Store functions for card bindings (serial -> person) and 本籍地 use registrations; only this city holds them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.orm import Session

from yakuba.registry._values import CardBinding, CardStatus, HonsekiUseRegistration
from yakuba.registry.store._schema import card_bindings, honseki_use_registrations

__all__ = [
    "fetch_active_cards",
    "fetch_card",
    "fetch_honseki_use",
    "insert_card",
    "insert_honseki_use",
    "revoke_card_binding",
    "revoke_honseki_use",
]


def _card_from_row(row: RowMapping) -> CardBinding:
    return CardBinding(
        serial=row["serial"],
        person_id=row["person_id"],
        fingerprint=row["fingerprint"],
        issued_at=row["issued_at"],
        status=CardStatus(row["status"]),
        revoked_at=row["revoked_at"],
        revoke_reason=row["revoke_reason"],
    )


def fetch_card(session: Session, serial: str) -> CardBinding | None:
    """The binding of SERIAL, active or revoked; None when the serial is unknown here."""
    row = session.execute(select(card_bindings).where(card_bindings.c.serial == serial)).mappings().first()
    return None if row is None else _card_from_row(row)


def fetch_active_cards(session: Session, person_id: int) -> tuple[CardBinding, ...]:
    """The person's active bindings (normally at most one)."""
    query = select(card_bindings).where(
        card_bindings.c.person_id == person_id, card_bindings.c.status == CardStatus.ACTIVE.value
    )
    return tuple(_card_from_row(r) for r in session.execute(query.order_by(card_bindings.c.issued_at)).mappings())


def insert_card(session: Session, *, serial: str, person_id: int, fingerprint: str, at: dt.datetime) -> None:
    """Bind SERIAL to the person."""
    session.execute(
        insert(card_bindings).values(
            serial=serial, person_id=person_id, fingerprint=fingerprint, issued_at=at, status=CardStatus.ACTIVE.value
        )
    )


def revoke_card_binding(session: Session, *, serial: str, at: dt.datetime, reason: str) -> None:
    """Mark the binding revoked."""
    session.execute(
        update(card_bindings)
        .where(card_bindings.c.serial == serial)
        .values(status=CardStatus.REVOKED.value, revoked_at=at, revoke_reason=reason)
    )


def fetch_honseki_use(session: Session, serial: str) -> HonsekiUseRegistration | None:
    """The 利用登録 of SERIAL; None when there is none."""
    query = select(honseki_use_registrations).where(honseki_use_registrations.c.serial == serial)
    row = session.execute(query).mappings().first()
    if row is None:
        return None
    return HonsekiUseRegistration(
        serial=row["serial"],
        koseki_member_id=row["koseki_member_id"],
        registered_at=row["registered_at"],
        status=CardStatus(row["status"]),
    )


def insert_honseki_use(session: Session, *, serial: str, koseki_member_id: int, at: dt.datetime) -> None:
    """Register SERIAL for the register member's 本籍地 certificates."""
    session.execute(
        insert(honseki_use_registrations).values(
            serial=serial, koseki_member_id=koseki_member_id, registered_at=at, status=CardStatus.ACTIVE.value
        )
    )


def revoke_honseki_use(session: Session, *, serial: str, at: dt.datetime) -> None:
    """End the 利用登録 of SERIAL."""
    session.execute(
        update(honseki_use_registrations)
        .where(honseki_use_registrations.c.serial == serial)
        .values(status=CardStatus.REVOKED.value, revoked_at=at)
    )
