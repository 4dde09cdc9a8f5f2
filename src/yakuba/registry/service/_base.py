"""What every life event shares: the injected seams, today's date, refusal checks, history and card revocation."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from yakuba.clock import JST, Clock
from yakuba.registry._numbers import new_juminhyo_code, new_my_number
from yakuba.registry._ports import CardRevoker, RegistryTransaction, TransactionFactory
from yakuba.registry._values import Address, Person, PersonName, ResidentStatus
from yakuba.registry.errors import EventRefusedError

__all__ = ["MARRIAGE_MIN_AGE", "NUMBER_ATTEMPTS", "SEAL_MIN_AGE", "CityIdentity", "EventBase", "EventContext"]

SEAL_MIN_AGE = 15
"""印鑑登録 is open to residents aged 15 or over (印鑑条例, in every city)."""

MARRIAGE_MIN_AGE = 18
"""Minimum age to marry since the 2022 Civil Code amendment, for men and women alike."""

NUMBER_ATTEMPTS = 20
"""Fresh random numbers drawn before giving up on a collision (10^10 space: one retry is already rare)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CityIdentity:
    """Which city this registry belongs to: decides whether a 本籍 is kept here."""

    code: str
    prefecture: str
    name: str

    def holds_honseki(self, honseki: str) -> bool:
        return honseki.startswith(self.prefecture + self.name)


@dataclass(slots=True, kw_only=True)
class EventContext:
    """One event in progress: its transaction, time, and the card serials to revoke before commit."""

    tx: RegistryTransaction
    at: dt.datetime
    revocations: list[tuple[str, str]] = field(default_factory=list)


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Address):
        return str(value)
    if isinstance(value, PersonName):
        return value.full
    return value


class EventBase:
    """Holds the seams; subclasses add the events of one area."""

    def __init__(
        self,
        *,
        transactions: TransactionFactory,
        revoker: CardRevoker,
        clock: Clock,
        city: CityIdentity,
        rng: random.Random | None = None,
    ) -> None:
        self._transactions = transactions
        self._revoker = revoker
        self._clock = clock
        self._city = city
        self._rng = rng or random.SystemRandom()

    def today(self) -> dt.date:
        """Today in Japan, by the injected clock."""
        return self._clock.now().astimezone(JST).date()

    @contextmanager
    def _event(self) -> Iterator[EventContext]:
        """One event, steps in order:

        1. open the transaction; the event reads, checks (raising refuses it whole) and writes with history;
        2. revoke the collected card certificates through the PKI, last, still inside the transaction:
           a PKI failure rolls the registry change back, so a card is never left valid for a changed record
           (stale data); a commit failure after revocation leaves a revoked card, which fails safe;
        3. commit.
        """
        with self._transactions() as tx:
            ctx = EventContext(tx=tx, at=self._clock.now())
            yield ctx
            for serial, reason in ctx.revocations:  # step 2
                self._revoker.revoke(serial, reason)

    @staticmethod
    def _history(
        ctx: EventContext,
        aggregate: str,
        aggregate_id: object,
        event: str,
        effective_on: dt.date | None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        ctx.tx.insert_history(
            aggregate=aggregate,
            aggregate_id=str(aggregate_id),
            event=event,
            at=ctx.at,
            effective_on=effective_on,
            detail={k: _jsonable(v) for k, v in (detail or {}).items()},
        )

    @staticmethod
    def _require_current(person: Person, what: str) -> None:
        """Refuse an event for someone no longer on the register (moved out, deceased)."""
        if person.status is ResidentStatus.DECEASED:
            raise EventRefusedError(
                f"{what}: person {person.id} is recorded as deceased",
                ja=f"{what}: ID {person.id} の方は死亡により除票されています",
            )
        if person.status is ResidentStatus.MOVED_OUT:
            raise EventRefusedError(
                f"{what}: person {person.id} has moved out",
                ja=f"{what}: ID {person.id} の方は転出により除票されています",
            )

    @staticmethod
    def _require_resident(person: Person, what: str) -> None:
        """Refuse also while a move-out is filed."""
        EventBase._require_current(person, what)
        if person.status is ResidentStatus.MOVE_OUT_FILED:
            raise EventRefusedError(
                f"{what}: person {person.id} has filed a move-out",
                ja=f"{what}: ID {person.id} の方は転出届が出されています",
            )

    def _revoke_cards(self, ctx: EventContext, person: Person, reason: str, effective_on: dt.date) -> None:
        """Mark the person's active card bindings revoked and queue the PKI revocation for the end of the event."""
        for card in ctx.tx.fetch_active_cards(person.id):
            ctx.tx.revoke_card_binding(serial=card.serial, at=ctx.at, reason=reason)
            self._history(
                ctx, "card", card.serial, "card_revoked", effective_on, {"person_id": person.id, "reason": reason}
            )
            ctx.revocations.append((card.serial, reason))

    def _deregister_seal(self, ctx: EventContext, person: Person, reason: str, effective_on: dt.date) -> None:
        """De-register the person's live seal, if any (a move-out or a death ends it by law)."""
        seal = ctx.tx.fetch_live_seal(person.id)
        if seal is not None:
            ctx.tx.deregister_seal(registration_number=seal.registration_number, at=ctx.at, reason=reason)
            self._history(
                ctx,
                "seal",
                seal.registration_number,
                "seal_deregistered",
                effective_on,
                {"person_id": person.id, "reason": reason},
            )

    def _new_numbers(self, ctx: EventContext, *, juminhyo_code: str | None, my_number: str | None) -> tuple[str, str]:
        """The given numbers, or fresh ones for a person new to the system; never numbers already in use."""
        for _ in range(NUMBER_ATTEMPTS):
            code = juminhyo_code or new_juminhyo_code(self._rng)
            number = my_number or new_my_number(self._rng)
            if not ctx.tx.is_number_taken(juminhyo_code=code, my_number=number):
                return code, number
            if juminhyo_code and my_number:
                break
        raise EventRefusedError(
            "this resident record code or My Number is already on the register",
            ja="この住民票コードまたは個人番号はすでに登録されています",
        )
