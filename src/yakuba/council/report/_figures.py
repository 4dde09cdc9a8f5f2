"""The report's numbers: issuance statistics from the center's settlement lines, for a period of months."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from yakuba.center.ports import SettlementRow
from yakuba.config import Deployment
from yakuba.council.errors import ReportPeriodError

__all__ = ["IssuanceStatistics", "Period", "issuance_statistics"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_PERIOD_MONTHS = 36
"""A council report covers at most three fiscal years; a longer span is a mistyped period."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """Whole months, first to last inclusive."""

    first: dt.date
    last: dt.date

    @classmethod
    def parse(cls, text: str) -> Period:
        """'YYYY-MM' or 'YYYY-MM..YYYY-MM'."""
        start, _, end = text.partition("..")
        first, last_month = _month(start), _month(end or start)
        if last_month < first:
            raise ReportPeriodError(f"{text}: the period ends before it starts")
        last = (last_month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if (last.year - first.year) * 12 + last.month - first.month >= MAX_PERIOD_MONTHS:
            raise ReportPeriodError(f"{text}: longer than {MAX_PERIOD_MONTHS} months")
        return cls(first=first, last=last)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}..{self.last:%Y-%m}"


def _month(text: str) -> dt.date:
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ReportPeriodError(f"{text!r} is not YYYY-MM")
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuanceStatistics:
    """Copies printed in the period, as the city showed the council: by kind and month, chain, channel, city."""

    by_kind_month: dict[tuple[str, str], int]
    by_chain: dict[str, int]
    by_channel: dict[str, int]  # "store" (konbini) / "city_hall" (counter terminals), where known
    by_city: dict[str, int]
    participating_cities: tuple[tuple[str, str], ...]  # (code, name)
    total: int

    @property
    def months(self) -> list[str]:
        return sorted({m for _, m in self.by_kind_month})

    @property
    def kinds(self) -> list[str]:
        return sorted({k for k, _ in self.by_kind_month})


def issuance_statistics(dep: Deployment, rows: Iterable[SettlementRow]) -> IssuanceStatistics:
    """Sum ROWS (the center's settlement lines) the ways the council's materials did."""
    channel_of = {c.id: c.kind for c in dep.chains}
    kind_month: Counter[tuple[str, str]] = Counter()
    chain: Counter[str] = Counter()
    channel: Counter[str] = Counter()
    city: Counter[str] = Counter()
    for row in rows:
        n = row.copies_printed
        kind_month[(row.kind, f"{row.day:%Y-%m}")] += n
        chain[row.chain_id] += n
        channel[channel_of.get(row.chain_id, "unknown")] += n
        city[row.city] += n
    return IssuanceStatistics(
        by_kind_month=dict(kind_month),
        by_chain=dict(chain),
        by_channel=dict(channel),
        by_city=dict(city),
        participating_cities=tuple((c.code, c.name) for c in dep.cities),
        total=sum(chain.values()),
    )
