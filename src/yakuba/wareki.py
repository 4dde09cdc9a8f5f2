"""Dates in the Japanese era calendar (和暦) as certificates print them, on japanera's era table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from japanera import EraDate  # type: ignore[import-untyped]

from yakuba.errors import ValidationError

__all__ = ["FIRST_SOLAR_DATE", "WarekiDate", "era_year", "format_wareki", "full_width", "to_wareki"]

FIRST_SOLAR_DATE = dt.date(1873, 1, 1)
"""明治6年1月1日: Japan adopted the Gregorian calendar here; earlier dates would need the lunisolar one."""

_MODERN_ERAS = frozenset({"明治", "大正", "昭和", "平成", "令和"})
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True, slots=True, kw_only=True)
class WarekiDate:
    """A date in the era calendar: era name, year of the era (1 = 元年), month and day."""

    era: str
    year: int
    month: int
    day: int

    @property
    def era_year(self) -> str:
        """The era and its year, e.g. 令和元年, 令和7年."""
        return f"{self.era}{'元' if self.year == 1 else self.year}年"

    def __str__(self) -> str:
        return f"{self.era_year}{self.month}月{self.day}日"


def to_wareki(date: dt.date) -> WarekiDate:
    """DATE in the era calendar; the era switches on the day the new era began (e.g. 1989-01-08 is 平成元年)."""
    if isinstance(date, dt.datetime):
        date = date.date()
    if date < FIRST_SOLAR_DATE:
        raise ValidationError(
            f"dates before {FIRST_SOLAR_DATE.isoformat()} are not in the solar calendar",
            ja="明治6年1月1日より前の日付は扱えません",
        )
    era = EraDate.from_date(date).era
    name = str(era.kanji)
    if name not in _MODERN_ERAS:
        raise ValidationError(f"no modern era for {date.isoformat()}", ja="元号を決定できません")
    since: dt.date = era.since
    return WarekiDate(era=name, year=date.year - since.year + 1, month=date.month, day=date.day)


def full_width(text: str) -> str:
    """Digits as full-width characters, as the computerised family register prints them."""
    return text.translate(_FULL_WIDTH)


def format_wareki(date: dt.date, *, wide: bool = False) -> str:
    """DATE as a certificate prints it, e.g. 令和元年5月1日; WIDE gives full-width digits."""
    text = str(to_wareki(date))
    return full_width(text) if wide else text


def era_year(date: dt.date) -> str:
    """The era year of DATE (令和元年, 令和7年)."""
    return to_wareki(date).era_year
