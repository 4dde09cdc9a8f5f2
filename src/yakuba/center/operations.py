"""Operator and council functions over the center's database: the monthly settlement, city suspensions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from yakuba.center.ports import CitySuspension, SettlementRow, month_bounds
from yakuba.center.store import SqlSettlementStore
from yakuba.config import Deployment
from yakuba.database import make_engine

__all__ = ["find_suspension", "resume_city", "settlement_report"]

_T = TypeVar("_T")


def settlement_report(dep: Deployment, month: str) -> list[SettlementRow]:
    """Settlement of MONTH ('YYYY-MM', JST days): one row per day, city, chain and kind, with counts and yen."""
    first, last = month_bounds(month)
    return _with_store(dep, lambda store: store.settlement_rows(first_day=first, last_day=last))


def find_suspension(dep: Deployment, city: str) -> CitySuspension | None:
    """The suspension of CITY, if issuance for it is stopped after an integrity error."""
    return _with_store(dep, lambda store: store.find_suspension(city))


def resume_city(dep: Deployment, city: str) -> bool:
    """Lift CITY's suspension once the integrity error was investigated; whether there was one."""
    return _with_store(dep, lambda store: store.resume_city(city))


def _with_store(dep: Deployment, work: Callable[[SqlSettlementStore], _T]) -> _T:
    engine = make_engine(dep.database_url(dep.center.database))
    try:
        store = SqlSettlementStore(engine=engine)
        store.migrate()
        return work(store)
    finally:
        engine.dispose()
