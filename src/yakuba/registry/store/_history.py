"""Store functions for history rows: written in the same transaction as the change they describe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from yakuba.registry._values import HistoryEntry
from yakuba.registry.store._schema import history

__all__ = ["count_history", "fetch_history", "insert_history"]


def insert_history(
    session: Session,
    *,
    aggregate: str,
    aggregate_id: str,
    event: str,
    at: dt.datetime,
    effective_on: dt.date | None,
    detail: Mapping[str, object],
) -> None:
    """Append one history row."""
    session.execute(
        insert(history).values(
            aggregate=aggregate,
            aggregate_id=aggregate_id,
            event=event,
            recorded_at=at,
            effective_on=effective_on,
            detail=dict(detail),
        )
    )


def fetch_history(session: Session, *, aggregate: str, aggregate_id: str) -> tuple[HistoryEntry, ...]:
    """The aggregate's history, oldest first."""
    query = (
        select(history)
        .where(history.c.aggregate == aggregate, history.c.aggregate_id == aggregate_id)
        .order_by(history.c.id)
    )
    return tuple(
        HistoryEntry(
            id=r["id"],
            aggregate=r["aggregate"],
            aggregate_id=r["aggregate_id"],
            event=r["event"],
            recorded_at=r["recorded_at"],
            effective_on=r["effective_on"],
            detail=r["detail"],
        )
        for r in session.execute(query).mappings()
    )


def count_history(session: Session) -> int:
    """How many history rows there are."""
    return int(session.execute(select(func.count()).select_from(history)).scalar_one())
