"""Turning planned households into registry rows: residents, family registers, seals, tax, edge cases."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from typing import Any

from yakuba.registry._numbers import new_juminhyo_code, new_my_number
from yakuba.registry._seal_image import draw_impression
from yakuba.registry._values import ResidentStatus, SealStatus
from yakuba.registry.generate._households import Member, plan_household, random_address, random_honseki
from yakuba.registry.generate._names import NamePools
from yakuba.registry.generate._places import CityPlaces, neighbour_of
from yakuba.registry.generate._registers import RegisterRows, Row, Rows, address_row
from yakuba.registry.generate._tax import tax_rows

__all__ = ["EDGE_CASES", "PopulationBuilder", "Rows"]

EDGE_CASES = {
    # name: (rate per household, index of a household that always gets it, so small cities have every case)
    "support_measure": (0.002, 1),
    "move_out_filed": (0.004, 2),
    "moved_out": (0.012, 3),
    "deceased": (0.010, 4),
    "former_surname": (0.020, 5),
    "pending_filing": (0.004, 6),
    "long_name": (0.001, 7),
    "deregistered_seal": (0.020, 8),
}
"""Rates of the cases the issuer must meet, and the household index that is forced to have each one."""

HONSEKI_HERE_RATE = 0.45
"""Share of Japanese households whose 本籍 is in the city they live in."""

SEAL_RATE = 0.35
"""Share of residents aged 15+ with a seal registration."""


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - int((day.month, day.day) < (birth.month, birth.day))


class PopulationBuilder(RegisterRows):
    """Deterministic for (seed, as_of): one random stream drives every choice, ids count from 1."""

    def __init__(self, *, places: CityPlaces, seed: int, as_of: dt.date, loaded_at: dt.datetime) -> None:
        self._places = places
        self._neighbour = neighbour_of(places.code)
        self._rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not a secret
        self._names = NamePools()
        self._as_of = as_of
        self._loaded_at = loaded_at
        self._ids: dict[str, int] = defaultdict(int)
        self._impressions: dict[str, tuple[bytes, str]] = {}
        self._used_numbers: set[str] = set()
        self.rows: Rows = defaultdict(list)
        self.residents = 0
        self.households = 0

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _edge(self, name: str) -> bool:
        rate, forced = EDGE_CASES[name]
        return self.households == forced or self._rng.random() < rate

    def _number(self, make: Any) -> str:
        while True:
            number: str = make(self._rng)
            if number not in self._used_numbers:
                self._used_numbers.add(number)
                return number

    def take(self) -> Rows:
        """The rows built since the last call."""
        rows, self.rows = self.rows, defaultdict(list)
        return rows

    def add_household(self) -> None:
        """Plan one household and add its rows."""
        rng, as_of = self._rng, self._as_of
        long_name = self.households == EDGE_CASES["long_name"][1] or rng.random() < EDGE_CASES["long_name"][0]
        plan = plan_household(rng, self._names, self._places, as_of, long_name=long_name)
        household_id = self._next("household")
        moved_out = self._edge("moved_out")
        filed = not moved_out and self._edge("move_out_filed")
        support = self._edge("support_measure")
        former = self._edge("former_surname")
        japanese = plan.members[0].nationality == "JP"
        honseki_here = japanese and (
            rng.random() < HONSEKI_HERE_RATE or self.households == EDGE_CASES["pending_filing"][1]
        )
        places = self._places if honseki_here else self._neighbour
        honseki = random_honseki(rng, places) if japanese else None
        hittosha = plan.members[0].name.full if japanese else None
        destination = random_address(rng, self._neighbour)
        moved_out_on = as_of - dt.timedelta(days=rng.randint(1, 700))
        if moved_out_on <= plan.created_on:
            moved_out_on = as_of - dt.timedelta(days=1)
        if former and len(plan.members) > 1 and plan.members[1].role == "spouse" and japanese:
            plan.members[1].former_surname = self._names.surname(rng)
        previous = random_address(rng, self._neighbour if rng.random() < 0.5 else self._places)

        person_ids: list[int] = []
        rows_by_member: list[Row] = []
        for index, member in enumerate(plan.members):
            person_id = self._next("person")
            person_ids.append(person_id)
            since = max(plan.created_on, member.birth_date)
            status = ResidentStatus.RESIDENT
            if moved_out:
                status = ResidentStatus.MOVED_OUT
            elif filed and index == 0:
                status = ResidentStatus.MOVE_OUT_FILED
            row: Row = {
                "id": person_id,
                "juminhyo_code": self._number(new_juminhyo_code),
                "my_number": self._number(new_my_number),
                "family_name": member.name.family,
                "given_name": member.name.given,
                "family_name_kana": member.name.family_kana,
                "given_name_kana": member.name.given_kana,
                "former_surname": member.former_surname[0] if member.former_surname else None,
                "former_surname_kana": member.former_surname[1] if member.former_surname else None,
                "birth_date": member.birth_date,
                "sex": member.sex.value,
                "nationality": member.nationality,
                "household_id": household_id,
                "relationship": member.relationship,
                "address_since": since,
                **address_row(previous if member.birth_date < plan.created_on else None, "prev_"),
                "resident_since": since,
                "honseki": honseki,
                "hittosha": hittosha,
                "koseki_register_id": None,
                "status": status.value,
                "move_out_planned_on": as_of + dt.timedelta(days=rng.randint(1, 14))
                if status is ResidentStatus.MOVE_OUT_FILED
                else None,
                "moved_out_on": moved_out_on if moved_out else None,
                **address_row(
                    destination if status in (ResidentStatus.MOVED_OUT, ResidentStatus.MOVE_OUT_FILED) else None,
                    "dest_",
                ),
                "died_on": None,
                "support_measure": support and index == 0 and not moved_out,
            }
            rows_by_member.append(row)
        # A death: the last member (a spouse, child or grandparent; or a single head) is a 除票 now.
        head_id: int | None = person_ids[0]
        if not moved_out and self._edge("deceased"):
            victim = rows_by_member[-1]
            died_on = max(as_of - dt.timedelta(days=rng.randint(1, 400)), victim["address_since"])
            victim.update(
                status=ResidentStatus.DECEASED.value, died_on=died_on, support_measure=False, move_out_planned_on=None
            )
            victim.update(address_row(None, "dest_"))
            if victim is rows_by_member[0]:
                head_id = None
        self.rows["households"].append(
            {"id": household_id, **address_row(plan.address), "head_person_id": head_id, "created_on": plan.created_on}
        )
        self.rows["persons"].extend(rows_by_member)
        self.residents += sum(1 for r in rows_by_member if ResidentStatus(r["status"]).is_current)
        if honseki_here and honseki is not None:
            self._registers(plan, rows_by_member, honseki, destination)
        for member, row in zip(plan.members, rows_by_member, strict=True):
            self._seal(member, row)
            self.rows["history"].append(
                {
                    "aggregate": "person",
                    "aggregate_id": str(row["id"]),
                    "event": "loaded",
                    "recorded_at": self._loaded_at,
                    "effective_on": row["resident_since"],
                    "detail": {"household_id": household_id},
                }
            )
        self.rows["tax_assessments"].extend(tax_rows(rng, plan, rows_by_member, as_of))
        self.households += 1

    # seals -----------------------------------------------------------------------------------------------
    def _seal(self, member: Member, row: Row) -> None:
        rng = self._rng
        age = _age(member.birth_date, self._as_of)
        forced = self.households == EDGE_CASES["deregistered_seal"][1] and member.role == "head"
        if age < 15 or (not forced and rng.random() >= SEAL_RATE):
            return
        earliest = max(row["resident_since"], member.birth_date + dt.timedelta(days=365 * 15 + 4))
        span = max(1, (self._as_of - earliest).days)
        registered = dt.datetime.combine(earliest + dt.timedelta(days=rng.randrange(span)), dt.time(9, 30), dt.UTC)
        ended: dt.date | None = row["moved_out_on"] or row["died_on"]
        dereg = forced or (ended is None and rng.random() < EDGE_CASES["deregistered_seal"][0] / SEAL_RATE * 3)
        end_at: dt.datetime | None = None
        reason = None
        if ended is not None:
            end_at = dt.datetime.combine(ended, dt.time(12, 0), dt.UTC)
            reason = "moved_out" if row["moved_out_on"] else "deceased"
        elif dereg:
            end_at = registered + (dt.datetime.combine(self._as_of, dt.time(0), dt.UTC) - registered) / 2
            reason = "廃止届"
        end_at = max(end_at, registered) if end_at else None
        self._seal_row(row["id"], member.name.family, registered, end_at, reason)
        if dereg and ended is None and rng.random() < 0.5:
            again = (end_at or registered) + dt.timedelta(days=1)
            self._seal_row(row["id"], member.name.family, again, None, None)

    def _seal_row(
        self, person_id: int, surname: str, at: dt.datetime, ended: dt.datetime | None, reason: str | None
    ) -> None:
        if surname not in self._impressions:
            png = draw_impression(surname)
            self._impressions[surname] = (png, hashlib.sha256(png).hexdigest())
        png, digest = self._impressions[surname]
        seal_id = self._next("seal")
        self.rows["seal_registrations"].append(
            {
                "id": seal_id,
                "registration_number": str(seal_id).zfill(8),
                "person_id": person_id,
                "impression_png": png,
                "impression_sha256": digest,
                "registered_at": at,
                "deregistered_at": ended,
                "deregistration_reason": reason,
                "status": (SealStatus.DEREGISTERED if ended else SealStatus.REGISTERED).value,
            }
        )
