"""The seams the life-event logic works through: one registry transaction, and the PKI's card revocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from yakuba.registry._koseki_values import KosekiEvent, KosekiEventKind, KosekiMember, KosekiRegister
from yakuba.registry._values import (
    Address,
    CardBinding,
    HonsekiUseRegistration,
    Household,
    HouseholdView,
    NewPerson,
    Person,
    PersonName,
    SealRegistration,
    Sex,
    TaxSnapshot,
)

__all__ = ["CardRevoker", "RegistryTransaction", "TransactionFactory"]


class CardRevoker(Protocol):
    """Revokes a card's JPKI certificate through the PKI's revocation list (the real `revoke_card`)."""

    def revoke(self, serial: str, reason: str) -> None: ...


class RegistryTransaction(Protocol):
    """Everything a life event reads and writes, inside one transaction that commits or rolls back whole."""

    # residents and households
    def fetch_person(self, person_id: int) -> Person: ...
    def fetch_household(self, household_id: int) -> Household: ...
    def fetch_household_view(self, household_id: int) -> HouseholdView: ...
    def insert_household(self, *, address: Address, created_on: dt.date) -> int: ...
    def update_household(self, household: Household) -> None: ...
    def is_number_taken(self, *, juminhyo_code: str, my_number: str) -> bool: ...
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
    ) -> int: ...
    def update_person(self, person: Person) -> None: ...

    # seals
    def fetch_live_seal(self, person_id: int) -> SealRegistration | None: ...
    def insert_seal(self, *, person_id: int, impression_png: bytes, at: dt.datetime) -> SealRegistration: ...
    def deregister_seal(self, *, registration_number: str, at: dt.datetime, reason: str) -> None: ...

    # cards
    def fetch_card(self, serial: str) -> CardBinding | None: ...
    def fetch_active_cards(self, person_id: int) -> tuple[CardBinding, ...]: ...
    def insert_card(self, *, serial: str, person_id: int, fingerprint: str, at: dt.datetime) -> None: ...
    def revoke_card_binding(self, *, serial: str, at: dt.datetime, reason: str) -> None: ...
    def fetch_honseki_use(self, serial: str) -> HonsekiUseRegistration | None: ...
    def insert_honseki_use(self, *, serial: str, koseki_member_id: int, at: dt.datetime) -> None: ...

    # family registers
    def fetch_register(self, register_id: int) -> KosekiRegister: ...
    def fetch_member_of_person(self, person_id: int) -> KosekiMember | None: ...
    def insert_register(self, *, honseki: str, hittosha: str, created_on: dt.date) -> int: ...
    def close_register(self, *, register_id: int, on: dt.date) -> None: ...
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
    ) -> int: ...
    def remove_member(self, *, member_id: int, on: dt.date) -> None: ...
    def rename_member(self, *, member_id: int, name: PersonName) -> None: ...
    def insert_koseki_event(self, *, member_id: int, event: KosekiEvent) -> None: ...
    def insert_filing(self, *, register_id: int, kind: KosekiEventKind, filed_on: dt.date) -> int: ...
    def insert_register_address(self, *, member_id: int, address: Address, since: dt.date) -> None: ...
    def end_register_address(self, *, member_id: int, until: dt.date) -> None: ...

    # tax
    def copy_assessments_to_snapshot(self, *, as_of: dt.date, at: dt.datetime) -> TaxSnapshot: ...

    # history: every mutation above is paired with one of these in the same transaction
    def insert_history(
        self,
        *,
        aggregate: str,
        aggregate_id: str,
        event: str,
        at: dt.datetime,
        effective_on: dt.date | None,
        detail: Mapping[str, object],
    ) -> None: ...


class TransactionFactory(Protocol):
    """Opens one registry transaction: commit when the block ends normally, roll back on any error."""

    def __call__(self) -> AbstractContextManager[RegistryTransaction]: ...
