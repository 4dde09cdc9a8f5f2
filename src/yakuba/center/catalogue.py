"""The center's routing catalogue as data: which city offers which certificate, with what options, fee and hours."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import jpholiday

from yakuba.center.errors import CityNotParticipatingError, KindNotOfferedError
from yakuba.clock import JST
from yakuba.errors import ServiceClosedError, ValidationError
from yakuba.wire.messages import MAX_COPIES, Basis, IssuanceRequest

__all__ = [
    "DEFAULT_FEES_YEN",
    "DEFAULT_HOURS",
    "FAMILY_REGISTER_KINDS",
    "KIND_OPTIONS",
    "MAX_MEMBER_POSITION",
    "SAMPLE_CITY_POLICIES",
    "WEEKDAY_HOURS",
    "YEAR_END_CLOSURE",
    "Catalogue",
    "CatalogueEntry",
    "CityPolicy",
    "OptionType",
    "ServiceHours",
]

MAX_MEMBER_POSITION = 63
"""Member positions in a household or register start at 0; no household or register has 64 members, so a
larger position is malformed input rather than a choice."""


class OptionType(enum.StrEnum):
    """The shape of a kind-specific option's value."""

    FLAG = "flag"
    """true / false, e.g. show_honseki."""
    POSITIONS = "positions"
    """A list of distinct member positions (never names), e.g. members: [0, 2]."""


KIND_OPTIONS: Mapping[str, Mapping[str, OptionType]] = MappingProxyType(
    {
        "juminhyo": MappingProxyType(
            {
                "members": OptionType.POSITIONS,
                "show_honseki": OptionType.FLAG,
                "show_relationship": OptionType.FLAG,
                "show_individual_number": OptionType.FLAG,
            }
        ),
        "juminhyo-kisai": MappingProxyType({"members": OptionType.POSITIONS}),
        "inkan": MappingProxyType({}),
        "kazei": MappingProxyType({}),
        "shotoku": MappingProxyType({}),
        "koseki-zenbu": MappingProxyType({}),
        "koseki-kojin": MappingProxyType({"members": OptionType.POSITIONS}),
        "fuhyo": MappingProxyType({"members": OptionType.POSITIONS, "show_honseki": OptionType.FLAG}),
    }
)
"""Every certificate kind a kiosk can ask for (yakuba.documents.DocumentKind values) and the options it knows."""

CITY_CONTROLLED_OPTIONS = frozenset({"show_individual_number"})
"""Options a city switches on for itself; offered only where CityPolicy allows them."""

DEFAULT_FEES_YEN: Mapping[str, int] = MappingProxyType(
    {
        "juminhyo": 200,
        "juminhyo-kisai": 200,
        "inkan": 200,
        "kazei": 200,
        "shotoku": 200,
        "koseki-zenbu": 350,
        "koseki-kojin": 350,
        "fuhyo": 200,
    }
)
"""Per copy, as most cities set them (100 yen below the counter fee); a city's CityPolicy may differ."""

FAMILY_REGISTER_KINDS = frozenset({"koseki-zenbu", "koseki-kojin", "fuhyo"})
"""Kinds held by the 戸籍系 system: the only ones a 本籍地 request may ask for."""

YEAR_END_CLOSURE: frozenset[tuple[int, int]] = frozenset({(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)})
"""(month, day) on which the whole service is closed: 29 Dec - 3 Jan, as nationwide."""

EVERY_DAY = frozenset(range(1, 8))
WEEKDAYS = frozenset(range(1, 6))
WEEKEND = frozenset({6, 7})


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceHours:
    """When a (city, kind) is served, in JST: a daily window, the days of the week, dates closed."""

    opens: dt.time = dt.time(6, 30)
    """First minute served (inclusive)."""
    closes: dt.time = dt.time(23, 0)
    """First minute no longer served (exclusive)."""
    iso_weekdays: frozenset[int] = EVERY_DAY
    """1 = Monday ... 7 = Sunday."""
    closed_month_days: frozenset[tuple[int, int]] = YEAR_END_CLOSURE
    closed_dates: frozenset[dt.date] = frozenset()
    """One-off closures a city announces: system maintenance days, a local closure."""
    closed_on_holidays: bool | None = None
    """Closed on Japan's national holidays (国民の祝日, 振替休日, 国民の休日, as jpholiday computes them from the
    law, so no city keeps a holiday table of its own). None, the default, follows the days of the week: hours
    that serve no Saturday or Sunday are a city office's calendar and close on holidays too; hours that serve
    weekends stay open on them. True or False says so outright."""

    @property
    def closes_on_holidays(self) -> bool:
        """Whether national holidays are closed, with the default resolved (see closed_on_holidays)."""
        if self.closed_on_holidays is not None:
            return self.closed_on_holidays
        return not self.iso_weekdays & WEEKEND

    def check_open(self, at: dt.datetime) -> None:
        """Raise ServiceClosedError unless AT (aware) is inside these hours, naming the rule that closes it."""
        local = at.astimezone(JST)
        day, time = local.date(), local.time()
        if (day.month, day.day) in self.closed_month_days or day in self.closed_dates:
            raise ServiceClosedError(
                f"the service is closed on {day.isoformat()} (29 Dec - 3 Jan and announced closures)",
                ja="年末年始（12月29日～1月3日）および休止日はご利用いただけません。",
            )
        if day.isoweekday() not in self.iso_weekdays:
            if self.closes_on_holidays:
                raise ServiceClosedError(
                    "this certificate is issued on weekdays only, except national holidays",
                    ja="この証明書は平日（祝日を除く）のみ交付しています。",
                )
            raise ServiceClosedError(
                "this certificate is issued on weekdays only", ja="この証明書は平日のみ交付しています。"
            )
        if self.closes_on_holidays and jpholiday.is_holiday(day):
            raise ServiceClosedError(
                "this certificate is not issued on national holidays", ja="この証明書は祝日には交付していません。"
            )
        if not self.opens <= time < self.closes:
            opens, closes = self.opens.strftime("%H:%M"), self.closes.strftime("%H:%M")
            raise ServiceClosedError(
                f"the service hours are {opens}-{closes} JST",
                ja=f"サービス提供時間は{self.opens.hour}時{self.opens.minute:02d}分から"
                f"{self.closes.hour}時{self.closes.minute:02d}分までです。",
            )


DEFAULT_HOURS = ServiceHours()
"""06:30-23:00 JST every day except 29 Dec - 3 Jan."""

WEEKDAY_HOURS = ServiceHours(iso_weekdays=WEEKDAYS, closed_on_holidays=True)
"""The same window on weekdays except national holidays: many cities' family-register systems are run on the
city office's calendar, not at weekends or on holidays. (A city's own weekday-only hours close on holidays too
unless they set closed_on_holidays=False.)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueEntry:
    """One certificate one city offers: its fee per copy, options, bases, copy limit and hours."""

    city: str
    kind: str
    fee_yen: int
    options: Mapping[str, OptionType]
    bases: frozenset[Basis]
    hours: ServiceHours = DEFAULT_HOURS
    max_copies: int = MAX_COPIES

    def check_request(self, request: IssuanceRequest) -> None:
        """Raise ValidationError unless REQUEST fits this entry.

        1. The basis is one this kind is served on (a 住民票 is only for the city one lives in).
        2. Copies within the entry's limit (a runaway print job charged to one person).
        3. Every option is known for the kind and offered by this city, with a value of the right shape
           (an option the city switched off, such as the individual number; a typo passing silently).
        """
        if request.basis not in self.bases:  # 1
            raise ValidationError(
                f"{self.kind} is not issued on the basis {request.basis.value}",
                ja="この証明書は選択された市区町村区分（住所地／本籍地）では交付できません。",
            )
        if request.copies > self.max_copies:  # 2
            raise ValidationError(
                f"at most {self.max_copies} copies per transaction", ja=f"一度に{self.max_copies}通までです。"
            )
        known = KIND_OPTIONS.get(self.kind, {})
        for name, value in request.options.items():  # 3
            shape = self.options.get(name)
            if shape is None:
                if name in known and value is False:
                    continue  # explicitly asking for an option's absence is always fine
                if name in known:
                    raise ValidationError(
                        f"option {name} is not offered by this city for {self.kind}",
                        ja="この市区町村では、その記載事項は選択できません。",
                    )
                raise ValidationError(f"unknown option {name} for {self.kind}", ja="不明な選択項目があります。")
            _check_option_value(name, shape, value)


def _check_option_value(name: str, shape: OptionType, value: object) -> None:
    if shape is OptionType.FLAG:
        if not isinstance(value, bool):
            raise ValidationError(f"option {name} must be true or false", ja="選択項目の値が正しくありません。")
        return
    if (
        not isinstance(value, list)
        or not value
        or any(isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= MAX_MEMBER_POSITION for p in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            f"option {name} must be a list of distinct member positions 0-{MAX_MEMBER_POSITION}",
            ja="選択された方の指定が正しくありません。",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CityPolicy:
    """How one city departs from the defaults: kinds it does not offer, fees, city-controlled options, hours."""

    not_offered: frozenset[str] = frozenset()
    fees_yen: Mapping[str, int] = field(default_factory=dict)
    allows_individual_number: bool = False
    family_register_hours: ServiceHours = WEEKDAY_HOURS
    hours: ServiceHours = DEFAULT_HOURS


SAMPLE_CITY_POLICIES: Mapping[str, CityPolicy] = MappingProxyType(
    {
        # 西東京市: every kind, the individual number on request.
        "132292": CityPolicy(allows_individual_number=True),
        # 小平市: no 住民票記載事項証明書 at kiosks (some cities only), no individual number.
        "132110": CityPolicy(not_offered=frozenset({"juminhyo-kisai"})),
    }
)
"""The sample deployment's cities; a city not listed gets the defaults (every kind, no individual number)."""


class Catalogue:
    """Every (city, kind) the center routes, one entry each; lookups raise, they never return None."""

    __slots__ = ("_cities", "_entries")

    def __init__(self, *, entries: Iterable[CatalogueEntry], cities: Iterable[str]) -> None:
        by_key: dict[tuple[str, str], CatalogueEntry] = {}
        self._cities = frozenset(cities)
        for entry in entries:
            if (entry.city, entry.kind) in by_key:
                raise ValueError(f"two catalogue entries for {entry.city} {entry.kind}")
            if entry.city not in self._cities:
                raise ValueError(f"catalogue entry for {entry.city}, which does not participate")
            if entry.kind not in KIND_OPTIONS:
                raise ValueError(f"catalogue entry for an unknown kind {entry.kind}")
            unknown = set(entry.options) - set(KIND_OPTIONS[entry.kind])
            if unknown:
                raise ValueError(f"catalogue entry {entry.city} {entry.kind} has unknown options {sorted(unknown)}")
            if not 0 <= entry.fee_yen <= 100_000 or not 1 <= entry.max_copies <= MAX_COPIES:
                raise ValueError(f"catalogue entry {entry.city} {entry.kind} has a fee or copy limit out of range")
            by_key[(entry.city, entry.kind)] = entry
        self._entries: Mapping[tuple[str, str], CatalogueEntry] = MappingProxyType(by_key)

    @classmethod
    def from_policies(cls, city_codes: Iterable[str], policies: Mapping[str, CityPolicy]) -> Catalogue:
        """One entry per (city, kind) from the defaults, with each city's policy applied."""
        codes = tuple(city_codes)
        entries: list[CatalogueEntry] = []
        for code in codes:
            policy = policies.get(code, CityPolicy())
            for kind, options in KIND_OPTIONS.items():
                if kind in policy.not_offered:
                    continue
                family = kind in FAMILY_REGISTER_KINDS
                offered = {
                    name: shape
                    for name, shape in options.items()
                    if name not in CITY_CONTROLLED_OPTIONS or policy.allows_individual_number
                }
                entries.append(
                    CatalogueEntry(
                        city=code,
                        kind=kind,
                        fee_yen=policy.fees_yen.get(kind, DEFAULT_FEES_YEN[kind]),
                        options=MappingProxyType(offered),
                        bases=frozenset({Basis.RESIDENCE, Basis.HONSEKI}) if family else frozenset({Basis.RESIDENCE}),
                        hours=policy.family_register_hours if family else policy.hours,
                    )
                )
        return cls(entries=entries, cities=codes)

    @classmethod
    def for_cities(cls, city_codes: Iterable[str]) -> Catalogue:
        """The catalogue of these cities with the sample policies (the deployment's default)."""
        return cls.from_policies(city_codes, SAMPLE_CITY_POLICIES)

    @property
    def cities(self) -> frozenset[str]:
        return self._cities

    def entries(self) -> tuple[CatalogueEntry, ...]:
        return tuple(self._entries.values())

    def entry(self, city: str, kind: str) -> CatalogueEntry:
        """The entry for (CITY, KIND); CityNotParticipatingError or KindNotOfferedError otherwise."""
        if city not in self._cities:
            raise CityNotParticipatingError()
        found = self._entries.get((city, kind))
        if found is None:
            raise KindNotOfferedError()
        return found
