"""Store functions for family registers (戸籍), their members' 身分事項, pending filings and 戸籍の附票."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.orm import Session

from yakuba.registry._koseki_values import (
    KosekiEvent,
    KosekiEventKind,
    KosekiMember,
    KosekiRegister,
    PendingFiling,
    RegisterAddressEntry,
    RegisterStatus,
)
from yakuba.registry._values import Address, PersonName, Sex
from yakuba.registry.errors import PersonNotFoundError
from yakuba.registry.store._residents import address_columns, address_from_row
from yakuba.registry.store._schema import (
    koseki_events,
    koseki_filings,
    koseki_fuhyo,
    koseki_members,
    koseki_registers,
)

__all__ = [
    "close_register",
    "end_register_address",
    "fetch_member_of_person",
    "fetch_register",
    "fetch_register_address_history",
    "insert_filing",
    "insert_koseki_event",
    "insert_member",
    "insert_register",
    "insert_register_address",
    "link_member_to_person",
    "remove_member",
    "rename_member",
]


def _member_from_row(row: RowMapping, events: tuple[KosekiEvent, ...]) -> KosekiMember:
    return KosekiMember(
        id=row["id"],
        seq=row["seq"],
        person_id=row["person_id"],
        name=PersonName(
            family=row["family_name"],
            given=row["given_name"],
            family_kana=row["family_name_kana"],
            given_kana=row["given_name_kana"],
        ),
        birth_date=row["birth_date"],
        sex=Sex(row["sex"]),
        father=row["father"],
        mother=row["mother"],
        relationship=row["relationship"],
        removed_on=row["removed_on"],
        events=events,
    )


def fetch_register(session: Session, register_id: int) -> KosekiRegister:
    """The register with its members in register order, their events, and its pending filings."""
    row = session.execute(select(koseki_registers).where(koseki_registers.c.id == register_id)).mappings().first()
    if row is None:
        raise PersonNotFoundError(f"no family register {register_id}", ja=f"戸籍 {register_id} はありません")
    member_rows = list(
        session.execute(
            select(koseki_members).where(koseki_members.c.register_id == register_id).order_by(koseki_members.c.seq)
        ).mappings()
    )
    events: dict[int, list[KosekiEvent]] = defaultdict(list)
    if member_rows:
        query = (
            select(koseki_events)
            .where(koseki_events.c.member_id.in_([m["id"] for m in member_rows]))
            .order_by(koseki_events.c.event_date, koseki_events.c.id)
        )
        for e in session.execute(query).mappings():
            events[e["member_id"]].append(
                KosekiEvent(
                    kind=KosekiEventKind(e["kind"]),
                    event_date=e["event_date"],
                    filed_on=e["filed_on"],
                    counterpart=e["counterpart"],
                    detail=e["detail"],
                )
            )
    filings = session.execute(
        select(koseki_filings)
        .where(koseki_filings.c.register_id == register_id, koseki_filings.c.completed_on.is_(None))
        .order_by(koseki_filings.c.id)
    ).mappings()
    return KosekiRegister(
        id=row["id"],
        honseki=row["honseki"],
        hittosha=row["hittosha"],
        status=RegisterStatus(row["status"]),
        created_on=row["created_on"],
        closed_on=row["closed_on"],
        members=tuple(_member_from_row(m, tuple(events[m["id"]])) for m in member_rows),
        pending_filings=tuple(
            PendingFiling(id=f["id"], kind=KosekiEventKind(f["kind"]), filed_on=f["filed_on"]) for f in filings
        ),
    )


def fetch_member_of_person(session: Session, person_id: int) -> KosekiMember | None:
    """The person's current (not removed) entry in a register of this city; None when there is none."""
    row = (
        session.execute(
            select(koseki_members.c.register_id).where(
                koseki_members.c.person_id == person_id, koseki_members.c.removed_on.is_(None)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    register = fetch_register(session, row["register_id"])
    return next(m for m in register.members if m.person_id == person_id and m.removed_on is None)


def insert_register(session: Session, *, honseki: str, hittosha: str, created_on: dt.date) -> int:
    """A new current register; returns its id."""
    values = {
        "honseki": honseki,
        "hittosha": hittosha,
        "status": RegisterStatus.CURRENT.value,
        "created_on": created_on,
    }
    return int(session.execute(insert(koseki_registers).values(**values).returning(koseki_registers.c.id)).scalar_one())


def close_register(session: Session, *, register_id: int, on: dt.date) -> None:
    """Mark the register closed (除籍): every member has left it."""
    session.execute(
        update(koseki_registers)
        .where(koseki_registers.c.id == register_id)
        .values(status=RegisterStatus.CLOSED.value, closed_on=on)
    )


def insert_member(
    session: Session,
    *,
    register_id: int,
    person_id: int | None,
    name: PersonName,
    birth_date: dt.date,
    sex: Sex,
    father: str | None,
    mother: str | None,
    relationship: str,
) -> int:
    """Add a member at the end of the register; returns the member id."""
    last = session.execute(
        select(func.max(koseki_members.c.seq)).where(koseki_members.c.register_id == register_id)
    ).scalar_one()
    values = {
        "register_id": register_id,
        "seq": (last or 0) + 1,
        "person_id": person_id,
        "family_name": name.family,
        "given_name": name.given,
        "family_name_kana": name.family_kana,
        "given_name_kana": name.given_kana,
        "birth_date": birth_date,
        "sex": sex.value,
        "father": father,
        "mother": mother,
        "relationship": relationship,
    }
    return int(session.execute(insert(koseki_members).values(**values).returning(koseki_members.c.id)).scalar_one())


def link_member_to_person(session: Session, *, member_id: int, person_id: int | None) -> None:
    """Record (or clear) which resident a register member is."""
    session.execute(update(koseki_members).where(koseki_members.c.id == member_id).values(person_id=person_id))


def remove_member(session: Session, *, member_id: int, on: dt.date) -> None:
    """Mark the member removed (除籍) from their register."""
    session.execute(update(koseki_members).where(koseki_members.c.id == member_id).values(removed_on=on))


def insert_koseki_event(session: Session, *, member_id: int, event: KosekiEvent) -> None:
    """Record a 身分事項 of the member."""
    session.execute(
        insert(koseki_events).values(
            member_id=member_id,
            kind=event.kind.value,
            event_date=event.event_date,
            filed_on=event.filed_on,
            counterpart=event.counterpart,
            detail=event.detail,
        )
    )


def insert_filing(session: Session, *, register_id: int, kind: KosekiEventKind, filed_on: dt.date) -> int:
    """A filing accepted but not yet entered in the register."""
    values = {"register_id": register_id, "kind": kind.value, "filed_on": filed_on}
    return int(session.execute(insert(koseki_filings).values(**values).returning(koseki_filings.c.id)).scalar_one())


def insert_register_address(session: Session, *, member_id: int, address: Address, since: dt.date) -> None:
    """A new 附票 line: the member lives at ADDRESS from SINCE."""
    session.execute(
        insert(koseki_fuhyo).values(member_id=member_id, since=since, until=None, **address_columns(address))
    )


def end_register_address(session: Session, *, member_id: int, until: dt.date) -> None:
    """Close the member's open 附票 line at UNTIL."""
    session.execute(
        update(koseki_fuhyo)
        .where(koseki_fuhyo.c.member_id == member_id, koseki_fuhyo.c.until.is_(None))
        .values(until=until)
    )


def fetch_register_address_history(session: Session, register_id: int) -> tuple[RegisterAddressEntry, ...]:
    """The 戸籍の附票 of a register: each member's addresses, by member order then date."""
    query = (
        select(koseki_fuhyo)
        .join(koseki_members, koseki_members.c.id == koseki_fuhyo.c.member_id)
        .where(koseki_members.c.register_id == register_id)
        .order_by(koseki_members.c.seq, koseki_fuhyo.c.since, koseki_fuhyo.c.id)
    )
    out: list[RegisterAddressEntry] = []
    for row in session.execute(query).mappings():
        address = address_from_row(row)
        assert address is not None
        out.append(
            RegisterAddressEntry(member_id=row["member_id"], address=address, since=row["since"], until=row["until"])
        )
    return tuple(out)


def rename_member(session: Session, *, member_id: int, name: PersonName) -> None:
    """Write the member's new name (氏名の変更)."""
    session.execute(
        update(koseki_members)
        .where(koseki_members.c.id == member_id)
        .values(
            family_name=name.family,
            given_name=name.given,
            family_name_kana=name.family_kana,
            given_name_kana=name.given_kana,
        )
    )
