"""The nightly tax batch: the tax system's assessments reach the issuer as a snapshot dated the day before."""

from __future__ import annotations

import datetime as dt

from yakuba.clock import JST, Clock
from yakuba.registry._ports import TransactionFactory
from yakuba.registry._values import TaxSnapshot

__all__ = ["run_tax_batch"]


def run_tax_batch(transactions: TransactionFactory, *, clock: Clock) -> TaxSnapshot:
    """Copy every assessment into a new snapshot as of yesterday (JST), with its history row, in one transaction.

    The batch runs after midnight: what it copies is the tax system as it stood at the end of the previous day,
    and a tax certificate prints that date.
    """
    now = clock.now()
    as_of = now.astimezone(JST).date() - dt.timedelta(days=1)
    with transactions() as tx:
        snapshot = tx.copy_assessments_to_snapshot(as_of=as_of, at=now)
        tx.insert_history(
            aggregate="tax_snapshot",
            aggregate_id=str(snapshot.id),
            event="tax_snapshot_loaded",
            at=now,
            effective_on=as_of,
            detail={},
        )
        return snapshot
