"""Family-register rows of the synthetic city: registers, members, 身分事項, pending filings, 戸籍の附票."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

from yakuba.registry._koseki_values import KosekiEventKind
from yakuba.registry._values import Address, Sex
from yakuba.registry.generate._households import Member, Plan, random_address, random_honseki
from yakuba.registry.generate._names import NamePools
from yakuba.registry.generate._places import CityPlaces

__all__ = ["RegisterRows", "Row", "Rows", "address_row"]

Row = dict[str, Any]
Rows = dict[str, list[Row]]

_ADDRESS_FIELDS = ("prefecture", "city", "town", "chome", "ban", "go", "building")


def address_row(address: Address | None, prefix: str = "") -> Row:
    """The address columns of ADDRESS under PREFIX."""
    return {f"{prefix}{f}": (getattr(address, f) if address else None) for f in _ADDRESS_FIELDS}


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - int((day.month, day.day) < (birth.month, birth.day))


class RegisterRows:
    """The register half of the population builder (mixed into it; shares its random stream and ids)."""

    _rng: random.Random
    _names: NamePools
    _places: CityPlaces
    _neighbour: CityPlaces
    _as_of: dt.date
    rows: Rows

    def _next(self, kind: str) -> int:
        raise NotImplementedError

    def _edge(self, name: str) -> bool:
        raise NotImplementedError

    # family registers --------------------------------------------------------------------------------
    def _member_row(
        self,
        register_id: int,
        seq: int,
        member: Member,
        row: Row | None,
        relationship: str,
        father: str | None,
        mother: str | None,
    ) -> int:
        """A register member; ROW is their residence record here (None for someone living away)."""
        member_id = self._next("member")
        person_id = row["id"] if row else None
        removed_on = row["died_on"] if row else None
        self.rows["koseki_members"].append(
            {
                "id": member_id,
                "register_id": register_id,
                "seq": seq,
                "person_id": person_id,
                "family_name": member.name.family,
                "given_name": member.name.given,
                "family_name_kana": member.name.family_kana,
                "given_name_kana": member.name.given_kana,
                "birth_date": member.birth_date,
                "sex": member.sex.value,
                "father": father,
                "mother": mother,
                "relationship": relationship,
                "removed_on": removed_on,
            }
        )
        self._event(member_id, KosekiEventKind.BIRTH, member.birth_date, None, f"出生地 {self._places.prefecture}")
        if removed_on is not None:
            self._event(member_id, KosekiEventKind.DEATH, removed_on, None, None)
        if row is not None:
            row["koseki_register_id"] = register_id
        return member_id

    def _event(
        self, member_id: int, kind: KosekiEventKind, on: dt.date, counterpart: str | None, detail: str | None
    ) -> None:
        filed = on + dt.timedelta(days=self._rng.randint(0, 13))
        self.rows["koseki_events"].append(
            {
                "id": self._next("event"),
                "member_id": member_id,
                "kind": kind.value,
                "event_date": on,
                "filed_on": filed,
                "counterpart": counterpart,
                "detail": detail,
            }
        )

    def _fuhyo(self, member_id: int, address: Address, since: dt.date, until: dt.date | None = None) -> None:
        self.rows["koseki_fuhyo"].append(
            {"id": self._next("fuhyo"), "member_id": member_id, **address_row(address), "since": since, "until": until}
        )

    def _register(self, honseki: str, hittosha: str, created_on: dt.date) -> int:
        register_id = self._next("register")
        self.rows["koseki_registers"].append(
            {
                "id": register_id,
                "honseki": honseki,
                "hittosha": hittosha,
                "status": "current",
                "created_on": created_on,
                "closed_on": None,
            }
        )
        if self._edge("pending_filing"):
            kind = self._rng.choice((KosekiEventKind.BIRTH, KosekiEventKind.MARRIAGE, KosekiEventKind.ADOPTION))
            self.rows["koseki_filings"].append(
                {
                    "id": self._next("filing"),
                    "register_id": register_id,
                    "kind": kind.value,
                    "filed_on": self._as_of - dt.timedelta(days=self._rng.randint(0, 5)),
                    "completed_on": None,
                }
            )
        return register_id

    def _registers(self, plan: Plan, rows: list[Row], honseki: str, destination: Address) -> None:
        """Registers for a household whose 本籍 is here; singles sit in their parents' register, who live away."""
        rng = self._rng
        head, head_row = plan.members[0], rows[0]
        by_role = [(m, r) for m, r in zip(plan.members, rows, strict=True)]
        if plan.kind == "single" and _age(head.birth_date, self._as_of) < 60:
            # The parents' register: they live in the neighbour city, so non-residents have their 本籍 here.
            dad = dataclasses.replace(
                head,
                name=self._names.japanese(rng, Sex.MALE, (head.name.family, head.name.family_kana or "")),
                sex=Sex.MALE,
                birth_date=head.birth_date - dt.timedelta(days=rng.randint(9000, 13000)),
            )
            mum = dataclasses.replace(
                dad,
                name=self._names.japanese(rng, Sex.FEMALE, (head.name.family, head.name.family_kana or "")),
                sex=Sex.FEMALE,
                birth_date=dad.birth_date + dt.timedelta(days=rng.randint(-900, 900)),
            )
            married = head.birth_date - dt.timedelta(days=rng.randint(400, 3000))
            register_id = self._register(honseki, dad.name.full, married)
            parents_home = random_address(rng, self._neighbour)
            fid = self._member_row(register_id, 1, dad, None, "長男", None, None)
            mid = self._member_row(register_id, 2, mum, None, "妻", None, None)
            self._event(fid, KosekiEventKind.MARRIAGE, married, mum.name.full, None)
            self._event(mid, KosekiEventKind.MARRIAGE, married, dad.name.full, None)
            for member_id in (fid, mid):
                self._fuhyo(member_id, parents_home, married)
            child_rel = "長男" if head.sex is Sex.MALE else "長女"
            cid = self._member_row(register_id, 3, head, head_row, child_rel, dad.name.full, mum.name.full)
            self._resident_fuhyo(cid, head_row, plan.address, destination)
            head_row["hittosha"] = dad.name.full
            return
        married = max(m.birth_date for m in plan.members[:2]) + dt.timedelta(days=365 * rng.randint(20, 30))
        married = min(married, self._as_of - dt.timedelta(days=30))
        children = [(m, r) for m, r in by_role if m.role == "child"]
        if children:
            married = min(married, min(m.birth_date for m, _ in children) - dt.timedelta(days=200))
        register_id = self._register(honseki, head.name.full, married)
        spouse = next(((m, r) for m, r in by_role if m.role == "spouse"), None)
        seq = 1
        head_rel = "長男" if head.sex is Sex.MALE else "長女"
        hid = self._member_row(register_id, seq, head, head_row, head_rel, None, None)
        self._resident_fuhyo(hid, head_row, plan.address, destination)
        father = head.name.full if head.sex is Sex.MALE else None
        mother = head.name.full if head.sex is Sex.FEMALE else None
        if spouse is not None:
            seq += 1
            s_member, s_row = spouse
            sid = self._member_row(register_id, seq, s_member, s_row, s_member.relationship, None, None)
            self._event(hid, KosekiEventKind.MARRIAGE, married, s_member.name.full, None)
            self._event(
                sid,
                KosekiEventKind.MARRIAGE,
                married,
                head.name.full,
                "従前本籍 " + random_honseki(rng, self._neighbour),
            )
            self._resident_fuhyo(sid, s_row, plan.address, destination)
            mother = mother or s_member.name.full
            father = father or s_member.name.full
        elif plan.kind == "single_parent":
            self._event(hid, KosekiEventKind.DIVORCE, married + dt.timedelta(days=rng.randint(1500, 4000)), None, None)
        counts = {Sex.MALE: 0, Sex.FEMALE: 0}
        ordinals = "長二三四五"
        for c_member, c_row in children:
            seq += 1
            rel = ordinals[counts[c_member.sex]] + ("男" if c_member.sex is Sex.MALE else "女")
            counts[c_member.sex] += 1
            cid = self._member_row(register_id, seq, c_member, c_row, rel, father, mother)
            self._resident_fuhyo(cid, c_row, plan.address, destination)
            c_row["hittosha"] = head.name.full
        grandparents = [(m, r) for m, r in by_role if m.role.startswith("parent_")]
        if grandparents:
            g_head = grandparents[0][0]
            g_married = min(m.birth_date for m, _ in grandparents) + dt.timedelta(days=365 * 24)
            g_register = self._register(honseki, g_head.name.full, g_married)
            for g_seq, (g_member, g_row) in enumerate(grandparents, start=1):
                gid = self._member_row(g_register, g_seq, g_member, g_row, "長男" if g_seq == 1 else "妻", None, None)
                self._resident_fuhyo(gid, g_row, plan.address, destination)
                g_row["hittosha"] = g_head.name.full

    def _resident_fuhyo(
        self,
        member_id: int,
        row: Row,
        address: Address,
        destination: Address,
    ) -> None:
        until = row["died_on"]
        if row["moved_out_on"] is not None:
            self._fuhyo(member_id, address, row["address_since"], row["moved_out_on"])
            self._fuhyo(member_id, destination, row["moved_out_on"])
        else:
            self._fuhyo(member_id, address, row["address_since"], until)
