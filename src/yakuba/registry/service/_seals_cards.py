"""Seal registration and de-registration, card issuance and revocation, and 本籍地 use registration."""

from __future__ import annotations

from yakuba.registry._values import CardBinding, CardStatus, SealRegistration
from yakuba.registry.errors import EventRefusedError
from yakuba.registry.service._base import SEAL_MIN_AGE
from yakuba.registry.service._family import FamilyEvents

__all__ = ["SealCardEvents"]

MAX_IMPRESSION_BYTES = 512 * 1024
"""A registered impression is a small scan; anything larger is a mistake at the counter, not a seal."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class SealCardEvents(FamilyEvents):
    """Seals and cards."""

    def register_seal(self, *, person_id: int, impression_png: bytes) -> SealRegistration:
        """印鑑登録: a resident aged 15 or over with no live registration registers one seal."""
        if not impression_png.startswith(_PNG_SIGNATURE) or len(impression_png) > MAX_IMPRESSION_BYTES:
            raise EventRefusedError(
                "the impression must be a PNG image of at most 512 KiB", ja="印影はPNG画像（512KiB以内）です"
            )
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_resident(person, "seal registration")
            if person.age_on(self.today()) < SEAL_MIN_AGE:
                raise EventRefusedError(
                    f"seal registration needs age {SEAL_MIN_AGE} or over", ja="印鑑登録は15歳以上の方に限ります"
                )
            if ctx.tx.fetch_live_seal(person.id) is not None:
                raise EventRefusedError("a seal is already registered", ja="すでに印鑑登録があります")
            seal = ctx.tx.insert_seal(person_id=person.id, impression_png=impression_png, at=ctx.at)
            self._history(
                ctx, "seal", seal.registration_number, "seal_registered", self.today(), {"person_id": person.id}
            )
            return seal

    def deregister_seal(self, *, person_id: int, reason: str = "廃止届") -> None:
        """印鑑登録廃止: from this instant the seal is not certifiable."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            if ctx.tx.fetch_live_seal(person.id) is None:
                raise EventRefusedError(
                    f"person {person.id} has no registered seal", ja="印鑑登録がないため廃止できません"
                )
            self._deregister_seal(ctx, person, reason, self.today())

    def issue_card(self, *, person_id: int, serial: str, fingerprint: str) -> CardBinding:
        """Bind a newly issued card's certificate serial to the resident; any earlier card is revoked."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_resident(person, "card issuance")
            if ctx.tx.fetch_card(serial) is not None:
                raise EventRefusedError("this card serial is already bound", ja="このカードはすでに登録されています")
            self._revoke_cards(ctx, person, "superseded", self.today())
            ctx.tx.insert_card(serial=serial, person_id=person.id, fingerprint=fingerprint, at=ctx.at)
            self._history(ctx, "card", serial, "card_issued", self.today(), {"person_id": person.id})
            card = ctx.tx.fetch_card(serial)
            assert card is not None
            return card

    def revoke_card(self, *, person_id: int, reason: str) -> tuple[str, ...]:
        """Revoke the person's card certificate (lost card, holder's request); returns the serials revoked."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            if not ctx.tx.fetch_active_cards(person.id):
                raise EventRefusedError(f"person {person.id} has no active card", ja="有効なカードがありません")
            self._revoke_cards(ctx, person, reason, self.today())
            return tuple(serial for serial, _ in ctx.revocations)

    def register_honseki_use(self, *, serial: str, koseki_member_id: int, register_id: int) -> None:
        """利用登録: a card of someone living elsewhere may fetch this city's register certificates."""
        with self._event() as ctx:
            register = ctx.tx.fetch_register(register_id)
            member = next((m for m in register.members if m.id == koseki_member_id), None)
            if member is None or member.removed_on is not None:
                raise EventRefusedError(
                    "no current member with that id in the register", ja="その戸籍に該当者がいません"
                )
            existing = ctx.tx.fetch_honseki_use(serial)
            if existing is not None and existing.status is CardStatus.ACTIVE:
                raise EventRefusedError("this card is already registered", ja="このカードはすでに利用登録されています")
            ctx.tx.insert_honseki_use(serial=serial, koseki_member_id=member.id, at=ctx.at)
            self._history(ctx, "honseki_use", serial, "registered", self.today(), {"koseki_member_id": member.id})

    def check_can_hold_card(self, *, person_id: int) -> None:
        """Raise unless the person may be given a card now (exists, resident, no move-out filed); writes nothing."""
        with self._transactions() as tx:
            self._require_resident(tx.fetch_person(person_id), "card issuance")
