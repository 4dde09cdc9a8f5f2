"""Live issuance statistics of one city for one day (JST), from its issuers' logs: by kind, hour, chain, basis."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from yakuba.console.city import DayGroup

__all__ = ["Bar", "DayStatistics", "day_statistics"]


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart: its label and value."""

    label: str
    value: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DayStatistics:
    """Transactions and copies of one day; every figure is a count, nothing about a person."""

    day: dt.date
    transactions: int = 0
    copies_printed: int = 0
    refused: int = 0
    yen: int = 0
    by_kind: list[Bar] = field(default_factory=list)
    by_hour: list[Bar] = field(default_factory=list)
    by_chain: list[Bar] = field(default_factory=list)
    by_status: list[Bar] = field(default_factory=list)
    by_basis: list[Bar] = field(default_factory=list)


def _bars(counter: Counter[str]) -> list[Bar]:
    return [Bar(label, value) for label, value in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


def day_statistics(day: dt.date, groups: Iterable[DayGroup]) -> DayStatistics:
    """Sum the log's GROUPS of DAY: transactions per kind, hour (JST), chain, outcome and basis (住所地/本籍地:
    the request carries no purpose of use, so that is the one breakdown of why the applicant asked), copies
    printed, and the yen of the copies printed."""
    kinds: Counter[str] = Counter()
    hours: Counter[int] = Counter()
    chains: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    bases: Counter[str] = Counter()
    printed = yen = refused = total = 0
    for group in groups:
        n = group.transactions
        total += n
        kinds[group.kind] += n
        hours[group.jst_hour] += n
        chains[group.chain_id] += n
        statuses[group.status] += n
        bases[group.basis] += n
        printed += group.copies_printed
        yen += group.yen
        refused += n if group.status == "refused" else 0
    return DayStatistics(
        day=day,
        transactions=total,
        copies_printed=printed,
        refused=refused,
        yen=yen,
        by_kind=_bars(kinds),
        by_hour=[Bar(f"{h:02d}", hours.get(h, 0)) for h in range(24)],
        by_chain=_bars(chains),
        by_status=_bars(statuses),
        by_basis=_bars(bases),
    )
