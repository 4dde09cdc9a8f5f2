"""Store functions for persons and households (住民基本台帳)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, Select, func, insert, or_, select, update
from sqlalchemy.orm import Session

from yakuba.registry._values import (
    Address,
    Household,
    HouseholdView,
    NewPerson,
    Person,
    PersonName,
    ResidentStatus,
    Sex,
)
from yakuba.registry.errors import PersonNotFoundError
from yakuba.registry.store._schema import households, persons

__all__ = [
    "address_columns",
    "address_from_row",
    "count_persons",
    "fetch_household",
    "fetch_household_view",
    "fetch_person",
    "find_persons",
    "insert_household",
    "insert_person",
    "is_number_taken",
    "update_household",
    "update_person",
]

_ADDRESS_FIELDS = ("prefecture", "city", "town", "chome", "ban", "go", "building")


def address_columns(address: Address | None, prefix: str = "") -> dict[str, Any]:
    """The column values of ADDRESS under PREFIX (all None for no address)."""
    return {f"{prefix}{name}": (getattr(address, name) if address else None) for name in _ADDRESS_FIELDS}


def address_from_row(row: RowMapping, prefix: str = "") -> Address | None:
    """The Address stored under PREFIX in ROW, or None when it is empty."""
    if row[f"{prefix}town"] is None:
        return None
    return Address(**{name: row[f"{prefix}{name}"] for name in _ADDRESS_FIELDS})


def _person_query() -> Select[Any]:
    hh = [households.c[name].label(f"hh_{name}") for name in _ADDRESS_FIELDS]
    return select(persons, *hh).join(households, households.c.id == persons.c.household_id)


def _person_from_row(row: RowMapping) -> Person:
    address = address_from_row(row, "hh_")
    assert address is not None
    return Person(
        id=row["id"],
        juminhyo_code=row["juminhyo_code"],
        my_number=row["my_number"],
        name=PersonName(
            family=row["family_name"],
            given=row["given_name"],
            family_kana=row["family_name_kana"],
            given_kana=row["given_name_kana"],
        ),
        former_surname=row["former_surname"],
        former_surname_kana=row["former_surname_kana"],
        birth_date=row["birth_date"],
        sex=Sex(row["sex"]),
        nationality=row["nationality"],
        household_id=row["household_id"],
        relationship=row["relationship"],
        address=address,
        address_since=row["address_since"],
        previous_address=address_from_row(row, "prev_"),
        resident_since=row["resident_since"],
        honseki=row["honseki"],
        hittosha=row["hittosha"],
        koseki_register_id=row["koseki_register_id"],
        status=ResidentStatus(row["status"]),
        move_out_planned_on=row["move_out_planned_on"],
        moved_out_on=row["moved_out_on"],
        move_out_destination=address_from_row(row, "dest_"),
        died_on=row["died_on"],
        support_measure=bool(row["support_measure"]),
    )


def _person_values(person: Person) -> dict[str, Any]:
    return {
        "family_name": person.name.family,
        "given_name": person.name.given,
        "family_name_kana": person.name.family_kana,
        "given_name_kana": person.name.given_kana,
        "former_surname": person.former_surname,
        "former_surname_kana": person.former_surname_kana,
        "household_id": person.household_id,
        "relationship": person.relationship,
        "address_since": person.address_since,
        **address_columns(person.previous_address, "prev_"),
        "honseki": person.honseki,
        "hittosha": person.hittosha,
        "koseki_register_id": person.koseki_register_id,
        "status": person.status.value,
        "move_out_planned_on": person.move_out_planned_on,
        "moved_out_on": person.moved_out_on,
        **address_columns(person.move_out_destination, "dest_"),
        "died_on": person.died_on,
        "support_measure": person.support_measure,
    }


def fetch_person(session: Session, person_id: int) -> Person:
    """The person with PERSON_ID, current or removed; PersonNotFoundError when there is none."""
    row = session.execute(_person_query().where(persons.c.id == person_id)).mappings().first()
    if row is None:
        raise PersonNotFoundError(f"no person with id {person_id}", ja=f"ID {person_id} の方は住民記録にありません")
    return _person_from_row(row)


def find_persons(session: Session, *, text: str, limit: int) -> tuple[Person, ...]:
    """Persons whose name or kana contains TEXT (staff look-up), at most LIMIT, by id."""
    pattern = f"%{text}%"
    name = persons.c.family_name + persons.c.given_name
    kana = func.coalesce(persons.c.family_name_kana, "") + func.coalesce(persons.c.given_name_kana, "")
    query = _person_query().where(or_(name.like(pattern), kana.like(pattern))).order_by(persons.c.id).limit(limit)
    return tuple(_person_from_row(r) for r in session.execute(query).mappings())


def count_persons(session: Session) -> int:
    """How many person records (current and removed) the registry holds."""
    return int(session.execute(select(func.count()).select_from(persons)).scalar_one())


def is_number_taken(session: Session, *, juminhyo_code: str, my_number: str) -> bool:
    """Whether either number is already on a record."""
    query = select(persons.c.id).where(or_(persons.c.juminhyo_code == juminhyo_code, persons.c.my_number == my_number))
    return session.execute(query.limit(1)).first() is not None


def insert_person(
    session: Session,
    new: NewPerson,
    *,
    juminhyo_code: str,
    my_number: str,
    household_id: int,
    relationship: str,
    address_since: dt.date,
    resident_since: dt.date,
    previous_address: Address | None,
    koseki_register_id: int | None,
) -> int:
    """Put a new person on the register; returns the new id."""
    values = {
        "juminhyo_code": juminhyo_code,
        "my_number": my_number,
        "family_name": new.name.family,
        "given_name": new.name.given,
        "family_name_kana": new.name.family_kana,
        "given_name_kana": new.name.given_kana,
        "former_surname": new.former_surname,
        "former_surname_kana": new.former_surname_kana,
        "birth_date": new.birth_date,
        "sex": new.sex.value,
        "nationality": new.nationality,
        "household_id": household_id,
        "relationship": relationship,
        "address_since": address_since,
        **address_columns(previous_address, "prev_"),
        "resident_since": resident_since,
        "honseki": new.honseki,
        "hittosha": new.hittosha,
        "koseki_register_id": koseki_register_id,
        "status": ResidentStatus.RESIDENT.value,
        **address_columns(None, "dest_"),
        "support_measure": False,
    }
    result = session.execute(insert(persons).values(**values).returning(persons.c.id))
    return int(result.scalar_one())


def update_person(session: Session, person: Person) -> None:
    """Write PERSON's mutable fields (identity numbers and birth data never change)."""
    session.execute(update(persons).where(persons.c.id == person.id).values(**_person_values(person)))


def insert_household(session: Session, *, address: Address, created_on: dt.date) -> int:
    """A new household at ADDRESS, head set afterwards; returns its id."""
    values = {**address_columns(address), "head_person_id": None, "created_on": created_on}
    return int(session.execute(insert(households).values(**values).returning(households.c.id)).scalar_one())


def fetch_household(session: Session, household_id: int) -> Household:
    """The household with HOUSEHOLD_ID; NotFound as a person error (households are reached through people)."""
    row = session.execute(select(households).where(households.c.id == household_id)).mappings().first()
    if row is None:
        raise PersonNotFoundError(f"no household with id {household_id}", ja=f"世帯 {household_id} はありません")
    address = address_from_row(row)
    assert address is not None
    return Household(id=row["id"], address=address, head_person_id=row["head_person_id"])


def update_household(session: Session, household: Household) -> None:
    """Write the household's address and head."""
    values = {**address_columns(household.address), "head_person_id": household.head_person_id}
    session.execute(update(households).where(households.c.id == household.id).values(**values))


def fetch_household_view(session: Session, household_id: int) -> HouseholdView:
    """The household with its current members (head first, then by birth) and its removed members."""
    household = fetch_household(session, household_id)
    rows = session.execute(_person_query().where(persons.c.household_id == household_id)).mappings()
    everyone: Sequence[Person] = [_person_from_row(r) for r in rows]

    def order(p: Person) -> tuple[int, dt.date, int]:
        return (0 if p.id == household.head_person_id else 1, p.birth_date, p.id)

    current = sorted((p for p in everyone if p.status.is_current), key=order)
    removed = sorted((p for p in everyone if not p.status.is_current), key=order)
    return HouseholdView(household=household, members=tuple(current), removed_members=tuple(removed))
