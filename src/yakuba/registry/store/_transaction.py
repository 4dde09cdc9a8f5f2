"""The SQL registry transaction: one Session, every store function bound to it (implements RegistryTransaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from yakuba.registry._koseki_values import (
    KosekiEvent,
    KosekiEventKind,
    KosekiMember,
    KosekiRegister,
    RegisterAddressEntry,
)
from yakuba.registry._values import (
    Address,
    CardBinding,
    CardStatus,
    HistoryEntry,
    HonsekiUseRegistration,
    Household,
    HouseholdView,
    NewPerson,
    Person,
    PersonName,
    SealRegistration,
    Sex,
    TaxRecord,
    TaxSnapshot,
    TaxStatement,
)
from yakuba.registry.errors import PersonNotFoundError
from yakuba.registry.store import _cards, _history, _koseki, _residents, _seals, _tax
from yakuba.registry.store._audit_trail import RegistryAuditTrail

__all__ = ["SqlRegistryTransaction"]


class SqlRegistryTransaction:
    """Reads and writes of one unit of work; the caller's `unit_of_work` commits or rolls back."""

    def __init__(self, *, session: Session, audit: RegistryAuditTrail | None = None) -> None:
        self._s = session
        self._audit = audit

    # residents and households -------------------------------------------------------------
    def fetch_person(self, person_id: int) -> Person:
        return _residents.fetch_person(self._s, person_id)

    def find_persons(self, *, text: str, limit: int) -> tuple[Person, ...]:
        return _residents.find_persons(self._s, text=text, limit=limit)

    def count_persons(self) -> int:
        return _residents.count_persons(self._s)

    def fetch_household(self, household_id: int) -> Household:
        return _residents.fetch_household(self._s, household_id)

    def fetch_household_view(self, household_id: int) -> HouseholdView:
        return _residents.fetch_household_view(self._s, household_id)

    def fetch_household_for_certificate(self, person_id: int) -> HouseholdView:
        """The applicant's household as a residence certificate reads it, live."""
        return self.fetch_household_view(self.fetch_person(person_id).household_id)

    def insert_household(self, *, address: Address, created_on: dt.date) -> int:
        return _residents.insert_household(self._s, address=address, created_on=created_on)

    def update_household(self, household: Household) -> None:
        _residents.update_household(self._s, household)

    def is_number_taken(self, *, juminhyo_code: str, my_number: str) -> bool:
        return _residents.is_number_taken(self._s, juminhyo_code=juminhyo_code, my_number=my_number)

    def insert_person(
        self,
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
        return _residents.insert_person(
            self._s,
            new,
            juminhyo_code=juminhyo_code,
            my_number=my_number,
            household_id=household_id,
            relationship=relationship,
            address_since=address_since,
            resident_since=resident_since,
            previous_address=previous_address,
            koseki_register_id=koseki_register_id,
        )

    def update_person(self, person: Person) -> None:
        _residents.update_person(self._s, person)

    # seals --------------------------------------------------------------------------------
    def fetch_live_seal(self, person_id: int) -> SealRegistration | None:
        return _seals.fetch_live_seal(self._s, person_id)

    def fetch_seals_of_person(self, person_id: int) -> tuple[SealRegistration, ...]:
        return _seals.fetch_seals_of_person(self._s, person_id)

    def insert_seal(self, *, person_id: int, impression_png: bytes, at: dt.datetime) -> SealRegistration:
        return _seals.insert_seal(self._s, person_id=person_id, impression_png=impression_png, at=at)

    def deregister_seal(self, *, registration_number: str, at: dt.datetime, reason: str) -> None:
        _seals.deregister_seal(self._s, registration_number=registration_number, at=at, reason=reason)

    # cards --------------------------------------------------------------------------------
    def fetch_card(self, serial: str) -> CardBinding | None:
        return _cards.fetch_card(self._s, serial)

    def fetch_person_by_card_serial(self, serial: str) -> Person:
        """The resident an ACTIVE card serial is bound to; PersonNotFoundError for an unknown or revoked card."""
        card = _cards.fetch_card(self._s, serial)
        if card is None or card.status is not CardStatus.ACTIVE:
            raise PersonNotFoundError("no active card binding for this serial", ja="有効なカードの登録がありません")
        return self.fetch_person(card.person_id)

    def fetch_active_cards(self, person_id: int) -> tuple[CardBinding, ...]:
        return _cards.fetch_active_cards(self._s, person_id)

    def insert_card(self, *, serial: str, person_id: int, fingerprint: str, at: dt.datetime) -> None:
        _cards.insert_card(self._s, serial=serial, person_id=person_id, fingerprint=fingerprint, at=at)

    def revoke_card_binding(self, *, serial: str, at: dt.datetime, reason: str) -> None:
        _cards.revoke_card_binding(self._s, serial=serial, at=at, reason=reason)

    def fetch_honseki_use(self, serial: str) -> HonsekiUseRegistration | None:
        return _cards.fetch_honseki_use(self._s, serial)

    def insert_honseki_use(self, *, serial: str, koseki_member_id: int, at: dt.datetime) -> None:
        _cards.insert_honseki_use(self._s, serial=serial, koseki_member_id=koseki_member_id, at=at)

    # family registers -----------------------------------------------------------------------
    def fetch_register(self, register_id: int) -> KosekiRegister:
        return _koseki.fetch_register(self._s, register_id)

    def fetch_member_of_person(self, person_id: int) -> KosekiMember | None:
        return _koseki.fetch_member_of_person(self._s, person_id)

    def fetch_register_address_history(self, register_id: int) -> tuple[RegisterAddressEntry, ...]:
        return _koseki.fetch_register_address_history(self._s, register_id)

    def insert_register(self, *, honseki: str, hittosha: str, created_on: dt.date) -> int:
        return _koseki.insert_register(self._s, honseki=honseki, hittosha=hittosha, created_on=created_on)

    def close_register(self, *, register_id: int, on: dt.date) -> None:
        _koseki.close_register(self._s, register_id=register_id, on=on)

    def insert_member(
        self,
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
        return _koseki.insert_member(
            self._s,
            register_id=register_id,
            person_id=person_id,
            name=name,
            birth_date=birth_date,
            sex=sex,
            father=father,
            mother=mother,
            relationship=relationship,
        )

    def remove_member(self, *, member_id: int, on: dt.date) -> None:
        _koseki.remove_member(self._s, member_id=member_id, on=on)

    def rename_member(self, *, member_id: int, name: PersonName) -> None:
        _koseki.rename_member(self._s, member_id=member_id, name=name)

    def insert_koseki_event(self, *, member_id: int, event: KosekiEvent) -> None:
        _koseki.insert_koseki_event(self._s, member_id=member_id, event=event)

    def insert_filing(self, *, register_id: int, kind: KosekiEventKind, filed_on: dt.date) -> int:
        return _koseki.insert_filing(self._s, register_id=register_id, kind=kind, filed_on=filed_on)

    def insert_register_address(self, *, member_id: int, address: Address, since: dt.date) -> None:
        _koseki.insert_register_address(self._s, member_id=member_id, address=address, since=since)

    def end_register_address(self, *, member_id: int, until: dt.date) -> None:
        _koseki.end_register_address(self._s, member_id=member_id, until=until)

    # tax ----------------------------------------------------------------------------------
    def upsert_assessment(self, record: TaxRecord) -> None:
        _tax.upsert_assessment(self._s, record)

    def copy_assessments_to_snapshot(self, *, as_of: dt.date, at: dt.datetime) -> TaxSnapshot:
        return _tax.copy_assessments_to_snapshot(self._s, as_of=as_of, at=at)

    def fetch_latest_snapshot(self) -> TaxSnapshot | None:
        return _tax.fetch_latest_snapshot(self._s)

    def fetch_tax_statement(self, *, person_id: int, fiscal_year: int) -> TaxStatement | None:
        return _tax.fetch_tax_statement(self._s, person_id=person_id, fiscal_year=fiscal_year)

    # history ------------------------------------------------------------------------------
    def insert_history(
        self,
        *,
        aggregate: str,
        aggregate_id: str,
        event: str,
        at: dt.datetime,
        effective_on: dt.date | None,
        detail: Mapping[str, object],
    ) -> None:
        _history.insert_history(
            self._s,
            aggregate=aggregate,
            aggregate_id=aggregate_id,
            event=event,
            at=at,
            effective_on=effective_on,
            detail=detail,
        )
        if self._audit is not None:  # same session: the change, its history row and its audit entry commit together
            self._audit.record(
                self._s, aggregate=aggregate, aggregate_id=aggregate_id, event=event, at=at, effective_on=effective_on
            )

    def fetch_history(self, *, aggregate: str, aggregate_id: str) -> tuple[HistoryEntry, ...]:
        return _history.fetch_history(self._s, aggregate=aggregate, aggregate_id=aggregate_id)

    def count_history(self) -> int:
        return _history.count_history(self._s)
