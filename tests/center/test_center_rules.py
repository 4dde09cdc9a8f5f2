"""The catalogue and service hours as data: boundaries in JST, the year-end closure, weekday-only kinds, options."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from yakuba.center import Catalogue, CityPolicy, ServiceHours
from yakuba.center.catalogue import DEFAULT_FEES_YEN, KIND_OPTIONS
from yakuba.center.errors import CityNotParticipatingError, KindNotOfferedError
from yakuba.center.ports import month_bounds
from yakuba.clock import JST
from yakuba.errors import NotFoundError, ServiceClosedError, ValidationError
from yakuba.wire.messages import Basis, IssuanceRequest

from .center_support import KODAIRA, NISHITOKYO

CATALOGUE = Catalogue.for_cities((NISHITOKYO, KODAIRA))


def jst(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=JST)


def request(**fields: Any) -> IssuanceRequest:
    values: dict[str, Any] = {
        "transaction_id": "tx-" + "0" * 32,
        "kiosk_id": "midori-tanashi-1",
        "city": NISHITOKYO,
        "kind": "juminhyo",
        "copies": 1,
        "transaction_key": b"k" * 32,
        "requested_at": "2025-06-10T10:00:00+09:00",
        **fields,
    }
    return IssuanceRequest(**values)


def is_open(city: str, kind: str, at: dt.datetime) -> bool:
    try:
        CATALOGUE.entry(city, kind).hours.check_open(at)
    except ServiceClosedError:
        return False
    return True


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (jst(2025, 6, 10, 6, 29, 59), False),
        (jst(2025, 6, 10, 6, 30), True),
        (jst(2025, 6, 10, 22, 59, 59), True),
        (jst(2025, 6, 10, 23, 0), False),
        (jst(2025, 6, 10, 0, 0), False),
        (jst(2025, 12, 28, 12, 0), True),
        (jst(2025, 12, 29, 12, 0), False),
        (jst(2025, 12, 31, 12, 0), False),
        (jst(2026, 1, 1, 12, 0), False),
        (jst(2026, 1, 3, 22, 59), False),
        (jst(2026, 1, 4, 6, 30), True),
        (jst(2025, 6, 14, 12, 0), True),  # a Saturday: residence records every day
    ],
)
def test_residence_record_hours_in_jst(at: dt.datetime, expected: bool) -> None:
    assert is_open(NISHITOKYO, "juminhyo", at) is expected


def test_hours_are_judged_in_jst_whatever_the_clock_zone() -> None:
    # 21:29 UTC on 9 June is 06:29 JST on 10 June; 21:30 UTC is 06:30 JST.
    assert not is_open(NISHITOKYO, "juminhyo", dt.datetime(2025, 6, 9, 21, 29, tzinfo=dt.UTC))
    assert is_open(NISHITOKYO, "juminhyo", dt.datetime(2025, 6, 9, 21, 30, tzinfo=dt.UTC))
    # 14:00 UTC on 28 Dec is 23:00 JST: closed by the hour; 15:00 UTC is already 29 Dec in Japan.
    assert not is_open(NISHITOKYO, "juminhyo", dt.datetime(2025, 12, 28, 14, 0, tzinfo=dt.UTC))
    with pytest.raises(ServiceClosedError, match="29 Dec"):
        CATALOGUE.entry(NISHITOKYO, "juminhyo").hours.check_open(dt.datetime(2025, 12, 28, 15, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize("kind", ["koseki-zenbu", "koseki-kojin", "fuhyo"])
def test_family_register_kinds_are_weekdays_only_in_the_sample(kind: str) -> None:
    friday, saturday, sunday, monday = (jst(2025, 6, d, 12, 0) for d in (13, 14, 15, 16))
    assert is_open(NISHITOKYO, kind, friday)
    assert not is_open(NISHITOKYO, kind, saturday)
    assert not is_open(NISHITOKYO, kind, sunday)
    assert is_open(KODAIRA, kind, monday)
    with pytest.raises(ServiceClosedError, match="weekdays"):
        CATALOGUE.entry(KODAIRA, kind).hours.check_open(saturday)
    # The same daily window applies on weekdays.
    assert not is_open(NISHITOKYO, kind, jst(2025, 6, 13, 23, 0))


HOLIDAYS = (
    jst(2026, 11, 23, 12, 0),  # 勤労感謝の日, a Monday
    jst(2026, 5, 6, 12, 0),  # 振替休日 for 憲法記念日 on a Sunday, a Wednesday
    jst(2027, 3, 22, 12, 0),  # 振替休日 for 春分の日 on a Sunday, a Monday
    jst(2026, 9, 22, 12, 0),  # 国民の休日 between 敬老の日 and 秋分の日, a Tuesday
)


@pytest.mark.parametrize("kind", ["koseki-zenbu", "koseki-kojin", "fuhyo"])
@pytest.mark.parametrize("holiday", HOLIDAYS)
def test_family_register_kinds_are_not_issued_on_national_holidays(kind: str, holiday: dt.datetime) -> None:
    for city in (NISHITOKYO, KODAIRA):
        with pytest.raises(ServiceClosedError) as closed:
            CATALOGUE.entry(city, kind).hours.check_open(holiday)
        assert closed.value.text_en == "this certificate is not issued on national holidays"
        assert closed.value.text_ja == "この証明書は祝日には交付していません。"
    # The ordinary weekday after 勤労感謝の日 is served.
    assert is_open(NISHITOKYO, kind, jst(2026, 11, 24, 12, 0))


@pytest.mark.parametrize("holiday", HOLIDAYS)
def test_every_day_kinds_are_issued_on_national_holidays(holiday: dt.datetime) -> None:
    assert is_open(NISHITOKYO, "juminhyo", holiday)
    assert is_open(KODAIRA, "inkan", holiday)


def test_weekend_refusal_of_family_registers_names_holidays_too() -> None:
    with pytest.raises(ServiceClosedError) as closed:
        CATALOGUE.entry(NISHITOKYO, "koseki-zenbu").hours.check_open(jst(2026, 11, 21, 12, 0))
    assert closed.value.text_en == "this certificate is issued on weekdays only, except national holidays"
    assert closed.value.text_ja == "この証明書は平日（祝日を除く）のみ交付しています。"


def test_a_citys_own_weekday_hours_close_on_holidays_unless_it_says_otherwise() -> None:
    holiday, weekday = jst(2026, 11, 23, 12, 0), jst(2026, 11, 24, 12, 0)
    own = ServiceHours(iso_weekdays=frozenset(range(1, 6)), closes=dt.time(20, 0))
    opened = ServiceHours(iso_weekdays=frozenset(range(1, 6)), closed_on_holidays=False)
    for hours, served_on_holiday in ((own, False), (opened, True)):
        catalogue = Catalogue.from_policies((NISHITOKYO,), {NISHITOKYO: CityPolicy(family_register_hours=hours)})
        entry = catalogue.entry(NISHITOKYO, "koseki-kojin")
        entry.hours.check_open(weekday)
        if served_on_holiday:
            entry.hours.check_open(holiday)
        else:
            with pytest.raises(ServiceClosedError, match="national holidays"):
                entry.hours.check_open(holiday)
    # Hours that serve weekends stay open on holidays unless told otherwise.
    ServiceHours().check_open(holiday)
    with pytest.raises(ServiceClosedError, match="national holidays"):
        ServiceHours(closed_on_holidays=True).check_open(holiday)


def test_hours_are_data_a_city_can_change() -> None:
    late = ServiceHours(closes=dt.time(21, 0), closed_dates=frozenset({dt.date(2025, 6, 11)}))
    catalogue = Catalogue.from_policies((NISHITOKYO,), {NISHITOKYO: CityPolicy(hours=late)})
    hours = catalogue.entry(NISHITOKYO, "inkan").hours
    with pytest.raises(ServiceClosedError, match="21:00"):
        hours.check_open(jst(2025, 6, 10, 21, 0))
    with pytest.raises(ServiceClosedError):
        hours.check_open(jst(2025, 6, 11, 12, 0))


def test_every_kind_has_its_fee() -> None:
    fees = {entry.kind: entry.fee_yen for entry in CATALOGUE.entries() if entry.city == NISHITOKYO}
    assert fees == {
        "juminhyo": 200,
        "juminhyo-kisai": 200,
        "inkan": 200,
        "kazei": 200,
        "shotoku": 200,
        "koseki-zenbu": 350,
        "koseki-kojin": 350,
        "fuhyo": 200,
    }
    assert set(DEFAULT_FEES_YEN) == set(KIND_OPTIONS)
    cheaper = Catalogue.from_policies((KODAIRA,), {KODAIRA: CityPolicy(fees_yen={"juminhyo": 150})})
    assert cheaper.entry(KODAIRA, "juminhyo").fee_yen == 150


def test_unknown_city_and_kind_not_offered_are_distinct_not_found_errors() -> None:
    with pytest.raises(CityNotParticipatingError) as city:
        CATALOGUE.entry("131016", "juminhyo")
    with pytest.raises(KindNotOfferedError) as kind:
        CATALOGUE.entry(KODAIRA, "juminhyo-kisai")
    for caught in (city, kind):
        assert isinstance(caught.value, NotFoundError)
        assert caught.value.code == "not_found"  # so every relay maps it back
        assert caught.value.text_ja
    with pytest.raises(KindNotOfferedError):
        CATALOGUE.entry(NISHITOKYO, "passport")


@pytest.mark.parametrize(
    ("city", "fields", "message"),
    [
        (NISHITOKYO, {"options": {"show_juminhyo_code": True}}, "unknown option"),
        (KODAIRA, {"options": {"show_individual_number": True}}, "not offered by this city"),
        (NISHITOKYO, {"options": {"show_honseki": "yes"}}, "true or false"),
        (NISHITOKYO, {"options": {"members": [1, 1]}}, "distinct"),
        (NISHITOKYO, {"options": {"members": [64]}}, "positions"),
        (NISHITOKYO, {"kind": "inkan", "options": {"members": [0]}}, "unknown option"),
        (NISHITOKYO, {"basis": Basis.HONSEKI}, "basis"),
    ],
)
def test_requests_the_catalogue_refuses(city: str, fields: dict[str, Any], message: str) -> None:
    req = request(city=city, **fields)
    with pytest.raises(ValidationError, match=message):
        CATALOGUE.entry(city, req.kind).check_request(req)


@pytest.mark.parametrize(
    ("city", "fields"),
    [
        (NISHITOKYO, {"options": {"show_individual_number": True, "members": [0, 2], "show_relationship": False}}),
        (KODAIRA, {"options": {"show_individual_number": False}}),
        (KODAIRA, {"kind": "koseki-kojin", "basis": Basis.HONSEKI, "options": {"members": [3]}}),
        (NISHITOKYO, {"kind": "fuhyo", "options": {"show_honseki": True}, "copies": 10}),
    ],
)
def test_requests_the_catalogue_accepts(city: str, fields: dict[str, Any]) -> None:
    req = request(city=city, **fields)
    CATALOGUE.entry(city, req.kind).check_request(req)


def test_a_catalogue_has_one_entry_per_city_and_kind() -> None:
    entry = CATALOGUE.entry(NISHITOKYO, "inkan")
    with pytest.raises(ValueError, match="two catalogue entries"):
        Catalogue(entries=[entry, entry], cities=(NISHITOKYO,))
    with pytest.raises(ValueError, match="does not participate"):
        Catalogue(entries=[entry], cities=(KODAIRA,))


def test_month_bounds() -> None:
    assert month_bounds("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert month_bounds("2025-12") == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    with pytest.raises(ValidationError):
        month_bounds("2025-1")
