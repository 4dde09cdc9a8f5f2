"""戸籍全部事項証明書, 戸籍個人事項証明書 and 戸籍の附票の写し: content from the family register."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yakuba.documents._models._header import require
from yakuba.errors import ValidationError

__all__ = ["AddressHistoryEntry", "FuhyoContent", "FuhyoPerson", "KosekiContent", "KosekiEvent", "KosekiPerson"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KosekiEvent:
    """One 身分事項 or 戸籍事項 entry: a heading (出生, 婚姻, 編製) and its lines (【出生日】令和...)."""

    heading: str
    lines: tuple[tuple[str, str], ...]
    """(label, value) pairs; the date values are already era-formatted by the registry adapter."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KosekiPerson:
    """One person recorded in a family register (戸籍に記録されている者)."""

    person_id: str
    name: str
    birth_date: dt.date
    father: str
    mother: str
    relationship: str
    """父母との続柄 (長男, 二女, ...)."""
    spouse: bool = False
    removed: bool = False
    """除籍: shown struck out in the full certificate, as the registry records it."""
    events: tuple[KosekiEvent, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class KosekiContent:
    """戸籍全部事項証明書 (all persons) or 戸籍個人事項証明書 (the chosen persons)."""

    honseki: str
    hittosha: str
    register_events: tuple[KosekiEvent, ...]
    persons: tuple[KosekiPerson, ...]
    requested_by: str

    def __post_init__(self) -> None:
        require(len(self.persons) > 0, "a family register certificate needs a person", "記載する者がいません")

    def individual(self, person_ids: tuple[str, ...]) -> KosekiContent:
        """The same register restricted to the chosen persons (個人事項証明)."""
        chosen = tuple(p for p in self.persons if p.person_id in set(person_ids))
        if len(chosen) != len(set(person_ids)):
            raise ValidationError("a chosen person is not in this register", ja="指定された者は戸籍にいません")
        return KosekiContent(
            honseki=self.honseki,
            hittosha=self.hittosha,
            register_events=self.register_events,
            persons=chosen,
            requested_by=self.requested_by,
        )

    @property
    def subject_name(self) -> str:
        return self.requested_by


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressHistoryEntry:
    """One address of the 附票 and the day it was set."""

    address: str
    set_on: dt.date


@dataclass(frozen=True, slots=True, kw_only=True)
class FuhyoPerson:
    """One person of the register and their address history."""

    name: str
    birth_date: dt.date
    history: tuple[AddressHistoryEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FuhyoContent:
    """戸籍の附票の写し: the address history of the register's persons."""

    honseki: str
    hittosha: str
    persons: tuple[FuhyoPerson, ...]
    requested_by: str

    @property
    def subject_name(self) -> str:
        return self.requested_by
