"""Family events: birth, death, marriage, name change, and filings awaiting entry in a family register."""

from __future__ import annotations

import dataclasses
import datetime as dt

from yakuba.registry._koseki_values import KosekiEvent, KosekiEventKind
from yakuba.registry._values import NewPerson, Person, PersonName, ResidentStatus, Sex
from yakuba.registry.errors import EventRefusedError
from yakuba.registry.service._base import MARRIAGE_MIN_AGE, EventContext
from yakuba.registry.service._residence import ResidenceEvents

__all__ = ["FamilyEvents", "child_relationship"]

_ORDINALS = ("長", "二", "三", "四", "五", "六", "七", "八", "九")


def child_relationship(sex: Sex, earlier_same_sex: int) -> str:
    """A child's 戸籍 relationship by birth order among the register's children of the same sex (長男, 二女 ...)."""
    ordinal = _ORDINALS[min(earlier_same_sex, len(_ORDINALS) - 1)]
    return ordinal + ("男" if sex is Sex.MALE else "女")


class FamilyEvents(ResidenceEvents):
    """Changes to who people are: born, died, married, renamed."""

    def birth(self, child: NewPerson, *, parent_id: int, filed_on: dt.date) -> Person:
        """出生: the child joins the parent's household and, when the register is here, the parent's register."""
        with self._event() as ctx:
            parent = ctx.tx.fetch_person(parent_id)
            self._require_resident(parent, "birth")
            if child.birth_date > filed_on:
                raise EventRefusedError("a birth is filed after it happens", ja="出生日が届出日より後です")
            member = ctx.tx.fetch_member_of_person(parent.id)
            child = dataclasses.replace(child, honseki=parent.honseki, hittosha=parent.hittosha)
            code, number = self._new_numbers(ctx, juminhyo_code=None, my_number=None)
            child_id = ctx.tx.insert_person(
                child,
                juminhyo_code=code,
                my_number=number,
                household_id=parent.household_id,
                relationship="子",
                address_since=child.birth_date,
                resident_since=child.birth_date,
                previous_address=None,
                koseki_register_id=parent.koseki_register_id if member else None,
            )
            self._history(ctx, "person", child_id, "born", child.birth_date, {"household_id": parent.household_id})
            if member is not None:
                register = ctx.tx.fetch_register(parent.koseki_register_id or 0)
                father = mother = None
                for adult in register.members:
                    if adult.relationship in ("筆頭者", "夫", "妻") and adult.removed_on is None:
                        if adult.sex is Sex.MALE:
                            father = adult.name.full
                        else:
                            mother = adult.name.full
                same_sex = sum(
                    1
                    for m in register.members
                    if m.sex is child.sex and ((father and m.father == father) or (mother and m.mother == mother))
                )
                member_id = ctx.tx.insert_member(
                    register_id=register.id,
                    person_id=child_id,
                    name=child.name,
                    birth_date=child.birth_date,
                    sex=child.sex,
                    father=father,
                    mother=mother,
                    relationship=child_relationship(child.sex, same_sex),
                )
                ctx.tx.insert_koseki_event(
                    member_id=member_id,
                    event=KosekiEvent(
                        kind=KosekiEventKind.BIRTH,
                        event_date=child.birth_date,
                        filed_on=filed_on,
                        counterpart=None,
                        detail=f"届出人 {parent.name.full}",
                    ),
                )
                ctx.tx.insert_register_address(member_id=member_id, address=parent.address, since=child.birth_date)
                self._history(ctx, "koseki_member", member_id, "entered_by_birth", child.birth_date)
            return ctx.tx.fetch_person(child_id)

    def death(self, *, person_id: int, died_on: dt.date, filed_on: dt.date) -> Person:
        """死亡: the record becomes a 除票; the seal ends, the card certificate is revoked, the register notes it."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_current(person, "death")
            if died_on > filed_on:
                raise EventRefusedError("a death is filed after it happens", ja="死亡日が届出日より後です")
            dead = dataclasses.replace(person, status=ResidentStatus.DECEASED, died_on=died_on)
            ctx.tx.update_person(dead)
            self._history(ctx, "person", person.id, "died", died_on)
            self._vacate_head(ctx, person, died_on)
            self._deregister_seal(ctx, person, "deceased", died_on)
            self._revoke_cards(ctx, person, "deceased", died_on)
            member = ctx.tx.fetch_member_of_person(person.id)
            if member is not None:
                event = KosekiEvent(
                    kind=KosekiEventKind.DEATH, event_date=died_on, filed_on=filed_on, counterpart=None, detail=None
                )
                ctx.tx.insert_koseki_event(member_id=member.id, event=event)
                ctx.tx.remove_member(member_id=member.id, on=died_on)
                ctx.tx.end_register_address(member_id=member.id, until=died_on)
                self._history(ctx, "koseki_member", member.id, "removed_by_death", died_on)
                self._close_if_empty(ctx, person.koseki_register_id, died_on)
            return dead

    def marriage(
        self,
        *,
        person_id: int,
        spouse_id: int,
        keep_surname_of: int,
        honseki: str,
        married_on: dt.date,
        register_former_surname: bool = False,
    ) -> tuple[Person, Person]:
        """婚姻: one spouse takes the other's surname; a new register is made (here when HONSEKI is in the city)."""
        with self._event() as ctx:
            a, b = ctx.tx.fetch_person(person_id), ctx.tx.fetch_person(spouse_id)
            if a.id == b.id:
                raise EventRefusedError("a person cannot marry themself", ja="同一人物です")
            for p in (a, b):
                self._require_current(p, "marriage")
                if not p.is_japanese:
                    raise EventRefusedError(
                        "marriages with a foreign national are recorded at the counter by hand",
                        ja="外国籍の方との婚姻は窓口で個別に処理します",
                    )
                if p.age_on(married_on) < MARRIAGE_MIN_AGE:
                    raise EventRefusedError(f"person {p.id} is under {MARRIAGE_MIN_AGE}", ja="婚姻適齢に達していません")
            if keep_surname_of not in (a.id, b.id):
                raise EventRefusedError(
                    "the surname kept must be one spouse's", ja="夫婦のどちらかの氏を選んでください"
                )
            keeper, changer = (a, b) if keep_surname_of == a.id else (b, a)
            hittosha = keeper.name.full
            register_id: int | None = None
            if self._city.holds_honseki(honseki):
                register_id = ctx.tx.insert_register(honseki=honseki, hittosha=hittosha, created_on=married_on)
                self._history(ctx, "koseki_register", register_id, "register_created", married_on)
            new_name = dataclasses.replace(changer.name, family=keeper.name.family, family_kana=keeper.name.family_kana)
            results: list[Person] = []
            for p, other, name in ((keeper, changer, keeper.name), (changer, keeper, new_name)):
                self._leave_register(ctx, p, married_on, KosekiEventKind.MARRIAGE, other.name.full, honseki)
                if register_id is not None:
                    relationship = "夫" if p.sex is Sex.MALE else "妻"
                    if p is keeper:
                        relationship = "筆頭者"
                    member_id = ctx.tx.insert_member(
                        register_id=register_id,
                        person_id=p.id,
                        name=name,
                        birth_date=p.birth_date,
                        sex=p.sex,
                        father=None,
                        mother=None,
                        relationship=relationship,
                    )
                    event = KosekiEvent(
                        kind=KosekiEventKind.MARRIAGE,
                        event_date=married_on,
                        filed_on=married_on,
                        counterpart=other.name.full,
                        detail=f"従前本籍 {p.honseki or ''}".strip(),
                    )
                    ctx.tx.insert_koseki_event(member_id=member_id, event=event)
                    ctx.tx.insert_register_address(member_id=member_id, address=p.address, since=married_on)
                updated = dataclasses.replace(
                    p, name=name, honseki=honseki, hittosha=hittosha, koseki_register_id=register_id
                )
                if p is changer and register_former_surname:
                    updated = dataclasses.replace(
                        updated, former_surname=changer.name.family, former_surname_kana=changer.name.family_kana
                    )
                ctx.tx.update_person(updated)
                self._history(ctx, "person", p.id, "married", married_on, {"spouse_id": other.id})
                results.append(updated)
            self._revoke_cards(ctx, changer, "name_changed", married_on)
            return results[0], results[1]

    def change_name(
        self, *, person_id: int, name: PersonName, changed_on: dt.date, register_former_surname: bool = False
    ) -> Person:
        """氏名の変更: the new name; the card certificate is revoked; the register notes it when it is here."""
        with self._event() as ctx:
            person = ctx.tx.fetch_person(person_id)
            self._require_resident(person, "name change")
            if name == person.name:
                raise EventRefusedError("the new name is the current one", ja="新しい氏名が現在の氏名と同じです")
            changed = dataclasses.replace(person, name=name)
            if register_former_surname and name.family != person.name.family:
                changed = dataclasses.replace(
                    changed, former_surname=person.name.family, former_surname_kana=person.name.family_kana
                )
            ctx.tx.update_person(changed)
            self._history(ctx, "person", person.id, "name_changed", changed_on)
            member = ctx.tx.fetch_member_of_person(person.id)
            if member is not None:
                ctx.tx.rename_member(member_id=member.id, name=name)
                event = KosekiEvent(
                    kind=KosekiEventKind.NAME_CHANGE,
                    event_date=changed_on,
                    filed_on=changed_on,
                    counterpart=None,
                    detail=f"従前の氏名 {person.name.full}",
                )
                ctx.tx.insert_koseki_event(member_id=member.id, event=event)
                self._history(ctx, "koseki_member", member.id, "renamed", changed_on)
            self._revoke_cards(ctx, person, "name_changed", changed_on)
            return changed

    def accept_filing(self, *, register_id: int, kind: KosekiEventKind, filed_on: dt.date) -> int:
        """A filing accepted at the counter and not yet entered: the register is not certified until it is."""
        with self._event() as ctx:
            register = ctx.tx.fetch_register(register_id)
            filing_id = ctx.tx.insert_filing(register_id=register.id, kind=kind, filed_on=filed_on)
            self._history(ctx, "koseki_register", register.id, "filing_accepted", filed_on, {"kind": kind.value})
            return filing_id

    # ------------------------------------------------------------------------------------------------
    def _leave_register(
        self, ctx: EventContext, person: Person, on: dt.date, kind: KosekiEventKind, counterpart: str, to: str
    ) -> None:
        member = ctx.tx.fetch_member_of_person(person.id)
        if member is None:
            return
        event = KosekiEvent(kind=kind, event_date=on, filed_on=on, counterpart=counterpart, detail=f"新本籍 {to}")
        ctx.tx.insert_koseki_event(member_id=member.id, event=event)
        ctx.tx.remove_member(member_id=member.id, on=on)
        ctx.tx.end_register_address(member_id=member.id, until=on)
        self._history(ctx, "koseki_member", member.id, "removed", on, {"kind": kind.value})
        self._close_if_empty(ctx, person.koseki_register_id, on)

    def _close_if_empty(self, ctx: EventContext, register_id: int | None, on: dt.date) -> None:
        if register_id is None:
            return
        register = ctx.tx.fetch_register(register_id)
        if all(m.removed_on is not None for m in register.members):
            ctx.tx.close_register(register_id=register_id, on=on)
            self._history(ctx, "koseki_register", register_id, "register_closed", on)
