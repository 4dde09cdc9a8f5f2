"""Reads for the council's checks and report: audit entries by type (pending ones too) and the settlement lines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from yakuba.audit import AuditEntry
from yakuba.audit._store._tables import entries
from yakuba.center.ports import SettlementRow
from yakuba.center.store import SqlSettlementStore
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.recorder.service import is_erasable
from yakuba.recorder.store import fetch_active_holds, fetch_segments_due

__all__ = ["count_overdue_segments", "fetch_entries_of_type", "fetch_settlement_rows"]


def fetch_entries_of_type(engine: Engine, event_type: str) -> list[AuditEntry]:
    """Every audit entry of EVENT_TYPE in the log held by ENGINE, integrated or still pending, oldest first."""
    query = select(entries.c.body).where(entries.c.event_type == event_type).order_by(entries.c.id)
    with engine.connect() as conn:
        return [AuditEntry.from_canonical_bytes(bytes(row.body)) for row in conn.execute(query)]


def count_overdue_segments(engine: Engine, *, now: dt.datetime, grace: dt.timedelta) -> tuple[int, int]:
    """(segments past erase-at by more than GRACE with no hold, segments past it kept by a hold)."""
    with engine.connect() as conn:
        due = fetch_segments_due(conn, now=now - grace)
        holds = fetch_active_holds(conn, now=now)
    overdue = sum(1 for s in due if is_erasable(s.times, holds, now=now))
    return overdue, len(due) - overdue


def fetch_settlement_rows(dep: Deployment, *, first_day: dt.date, last_day: dt.date) -> list[SettlementRow]:
    """The center's settlement lines of the period, one per day, city, chain and kind."""
    engine = make_engine(dep.database_url(dep.center.database))
    try:
        store = SqlSettlementStore(engine=engine)
        store.migrate()
        return store.settlement_rows(first_day=first_day, last_day=last_day)
    finally:
        engine.dispose()
