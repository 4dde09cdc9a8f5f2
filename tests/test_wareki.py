"""Era calendar dates at the switch days, as certificates print them."""

from __future__ import annotations

import datetime as dt

import pytest

from yakuba.errors import ValidationError
from yakuba.wareki import WarekiDate, format_wareki, to_wareki


@pytest.mark.parametrize(
    ("day", "printed"),
    [
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(1926, 12, 24), "大正15年12月24日"),
        (dt.date(1926, 12, 25), "昭和元年12月25日"),
        (dt.date(1912, 7, 29), "明治45年7月29日"),
        (dt.date(1912, 7, 30), "大正元年7月30日"),
        (dt.date(1873, 1, 1), "明治6年1月1日"),
        (dt.date(2025, 11, 26), "令和7年11月26日"),
    ],
)
def test_switch_days(day: dt.date, printed: str) -> None:
    assert format_wareki(day) == printed


def test_parts_and_datetime() -> None:
    assert to_wareki(dt.datetime(2019, 5, 1, 0, 0)) == WarekiDate(era="令和", year=1, month=5, day=1)


def test_before_the_solar_calendar_is_refused() -> None:
    with pytest.raises(ValidationError):
        to_wareki(dt.date(1872, 12, 31))


def test_family_register_uses_full_width_digits() -> None:
    assert format_wareki(dt.date(1990, 3, 4), wide=True) == "平成２年３月４日"
