"""Test data shared by the registry tests: a recording card revoker, addresses, a married couple."""

from __future__ import annotations

import datetime as dt

from yakuba.clock import JST
from yakuba.registry import Address, CityIdentity, LifeEvents, NewPerson, Person, PersonName, Sex

NOW = dt.datetime(2025, 11, 26, 10, 0, tzinfo=JST)
CITY = CityIdentity(code="132292", prefecture="東京都", name="西東京市")


class RecordingRevoker:
    """A CardRevoker that records calls, and can be told to fail like an unreachable PKI."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = False

    def revoke(self, serial: str, reason: str) -> None:
        if self.fail:
            raise RuntimeError("PKI unreachable")
        self.calls.append((serial, reason))


def address(town: str = "南町", chome: int = 3, ban: int = 4, go: int = 5) -> Address:
    return Address(prefecture="東京都", city="西東京市", town=town, chome=chome, ban=ban, go=go)


ELSEWHERE = Address(prefecture="東京都", city="小平市", town="学園東町", chome=1, ban=2, go=3)


def new_person(
    family: str, given: str, sex: Sex, born: dt.date, *, kana: tuple[str, str] = ("ヤマダ", "タロウ")
) -> NewPerson:
    return NewPerson(
        name=PersonName(family=family, given=given, family_kana=kana[0], given_kana=kana[1]),
        birth_date=born,
        sex=sex,
        honseki="東京都小平市学園東町一丁目100番地",
        hittosha=f"{family}　{given}",
    )


def family(events: LifeEvents) -> tuple[Person, Person]:
    """A married couple living at one address in the city, with a register here."""
    head = events.move_in(
        new_person("山田", "太郎", Sex.MALE, dt.date(1980, 4, 1)),
        address=address(),
        moved_in_on=dt.date(2020, 4, 1),
        previous_address=ELSEWHERE,
    )
    wife = events.move_in(
        new_person("佐藤", "花子", Sex.FEMALE, dt.date(1982, 6, 2), kana=("サトウ", "ハナコ")),
        address=address(),
        moved_in_on=dt.date(2020, 4, 1),
        previous_address=ELSEWHERE,
        household_id=head.household_id,
        relationship="妻",
    )
    husband, wife = events.marriage(
        person_id=head.id,
        spouse_id=wife.id,
        keep_surname_of=head.id,
        honseki="東京都西東京市南町三丁目4番地",
        married_on=dt.date(2021, 5, 1),
        register_former_surname=True,
    )
    return husband, wife
