"""The sample town's clock helper: the next time every kind is served, family registers included."""

from __future__ import annotations

import datetime as dt

import pytest

from yakuba.center.catalogue import WEEKDAY_HOURS
from yakuba.clock import JST
from yakuba.network.sample_town import next_open_weekday


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Friday evening before 勤労感謝の日 (Monday 23 Nov): the weekend and the holiday are skipped.
        (dt.datetime(2026, 11, 20, 20, 0, tzinfo=JST), dt.date(2026, 11, 24)),
        # Before the 2026 silver week: 敬老の日 (Mon 21 Sep), 国民の休日 (Tue 22), 秋分の日 (Wed 23).
        (dt.datetime(2026, 9, 18, 20, 0, tzinfo=JST), dt.date(2026, 9, 24)),
        # Before a 振替休日 (Wed 6 May 2026, for 憲法記念日 on Sunday 3 May).
        (dt.datetime(2026, 5, 5, 9, 0, tzinfo=JST), dt.date(2026, 5, 7)),
        # The year-end closure, then 成人の日 (Mon 11 Jan 2027).
        (dt.datetime(2026, 12, 28, 12, 0, tzinfo=JST), dt.date(2027, 1, 4)),
        (dt.datetime(2027, 1, 8, 12, 0, tzinfo=JST), dt.date(2027, 1, 12)),
        # An ordinary weekday: the next day.
        (dt.datetime(2026, 11, 25, 12, 0, tzinfo=JST), dt.date(2026, 11, 26)),
    ],
)
def test_next_open_weekday_skips_weekends_holidays_and_the_year_end(after: dt.datetime, expected: dt.date) -> None:
    opens = next_open_weekday(after)
    assert opens == dt.datetime.combine(expected, dt.time(10, 0), tzinfo=JST)
    WEEKDAY_HOURS.check_open(opens)  # family registers are served then


def test_next_open_weekday_counts_days_in_jst() -> None:
    # 16:00 UTC on Monday 23 Nov is already Tuesday 24 Nov in Japan, so the next open day is Wednesday.
    assert next_open_weekday(dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)).date() == dt.date(2026, 11, 25)
