"""Typed, frozen values of the family register (戸籍): registers, members, 身分事項, filings, 附票 lines."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from yakuba.registry._values import Address, PersonName, Sex

__all__ = [
    "KosekiEvent",
    "KosekiEventKind",
    "KosekiMember",
    "KosekiRegister",
    "PendingFiling",
    "RegisterAddressEntry",
    "RegisterStatus",
]


class RegisterStatus(enum.StrEnum):
    """A family register is current, or closed (除籍) once every member has left it."""

    CURRENT = "current"
    CLOSED = "closed"


class KosekiEventKind(enum.StrEnum):
    """The kinds of 身分事項 a family register records."""

    BIRTH = "birth"  # 出生
    MARRIAGE = "marriage"  # 婚姻
    DIVORCE = "divorce"  # 離婚
    ADOPTION = "adoption"  # 養子縁組
    DEATH = "death"  # 死亡
    ENTRY = "entry"  # 入籍 / 転籍 into this register
    REMOVAL = "removal"  # 除籍 from this register
    NAME_CHANGE = "name_change"  # 氏名の変更

    @property
    def ja(self) -> str:
        return _KOSEKI_EVENT_JA[self]


_KOSEKI_EVENT_JA = {
    KosekiEventKind.BIRTH: "出生",
    KosekiEventKind.MARRIAGE: "婚姻",
    KosekiEventKind.DIVORCE: "離婚",
    KosekiEventKind.ADOPTION: "養子縁組",
    KosekiEventKind.DEATH: "死亡",
    KosekiEventKind.ENTRY: "入籍",
    KosekiEventKind.REMOVAL: "除籍",
    KosekiEventKind.NAME_CHANGE: "氏名の変更",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class KosekiEvent:
    """A 身分事項 of a register member: what happened, when, filed when, with whom."""

    kind: KosekiEventKind
    event_date: dt.date
    filed_on: dt.date
    counterpart: str | None
    detail: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class KosekiMember:
    """A person in a family register (戸籍), in register order."""

    id: int
    seq: int
    person_id: int | None  # set when the member lives in this city
    name: PersonName
    birth_date: dt.date
    sex: Sex
    father: str | None
    mother: str | None
    relationship: str  # 戸籍上の続柄: 長男, 二女, 妻 ...
    removed_on: dt.date | None  # 除籍 (marriage out, death)
    events: tuple[KosekiEvent, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingFiling:
    """A filing (届出) accepted but not yet entered: no register certificate while one is pending."""

    id: int
    kind: KosekiEventKind
    filed_on: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class KosekiRegister:
    """A family register (戸籍): 本籍, 筆頭者, members, pending filings."""

    id: int
    honseki: str
    hittosha: str
    status: RegisterStatus
    created_on: dt.date
    closed_on: dt.date | None
    members: tuple[KosekiMember, ...]
    pending_filings: tuple[PendingFiling, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterAddressEntry:
    """One line of a 戸籍の附票: a register member's address from a date (until the next one)."""

    member_id: int
    address: Address
    since: dt.date
    until: dt.date | None
