"""Store functions for tax: the tax system's assessments and the nightly snapshots the issuer reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, RowMapping, delete, insert, literal, select
from sqlalchemy.orm import Session

from yakuba.registry._values import IncomeKind, TaxRecord, TaxSnapshot, TaxStatement
from yakuba.registry.store._schema import tax_assessments, tax_snapshot_rows, tax_snapshots

__all__ = [
    "SNAPSHOTS_KEPT",
    "assessment_values",
    "copy_assessments_to_snapshot",
    "fetch_latest_snapshot",
    "fetch_tax_statement",
    "upsert_assessment",
]

SNAPSHOTS_KEPT = 3
"""Older snapshots are dropped by the batch: the issuer only reads the latest; two more allow a look-back."""

_INCOME_COLUMNS = {kind: f"income_{kind.value}" for kind in IncomeKind}
_DEDUCTION_COLUMNS = ("basic", "social_insurance", "spouse", "dependents", "other")
_COPIED = [c.name for c in tax_assessments.columns if c.name != "id"]


def assessment_values(record: TaxRecord) -> dict[str, Any]:
    """The column values of RECORD."""
    return {
        "fiscal_year": record.fiscal_year,
        "person_id": record.person_id,
        "salary_revenue": record.salary_revenue,
        **{col: int(record.incomes.get(kind, 0)) for kind, col in _INCOME_COLUMNS.items()},
        **{f"deduction_{name}": int(record.deductions.get(name, 0)) for name in _DEDUCTION_COLUMNS},
        "taxable_income": record.taxable_income,
        "per_capita_tax": record.per_capita_tax,
        "income_based_tax": record.income_based_tax,
        "exempt": record.exempt,
    }


def _record_from_row(row: RowMapping) -> TaxRecord:
    return TaxRecord(
        fiscal_year=row["fiscal_year"],
        person_id=row["person_id"],
        salary_revenue=row["salary_revenue"],
        incomes={kind: row[col] for kind, col in _INCOME_COLUMNS.items() if row[col]},
        deductions={name: row[f"deduction_{name}"] for name in _DEDUCTION_COLUMNS if row[f"deduction_{name}"]},
        taxable_income=row["taxable_income"],
        per_capita_tax=row["per_capita_tax"],
        income_based_tax=row["income_based_tax"],
        exempt=bool(row["exempt"]),
    )


def upsert_assessment(session: Session, record: TaxRecord) -> None:
    """Write one assessment in the tax system's own table (replacing the person's one for that year)."""
    session.execute(
        delete(tax_assessments).where(
            tax_assessments.c.fiscal_year == record.fiscal_year, tax_assessments.c.person_id == record.person_id
        )
    )
    session.execute(insert(tax_assessments).values(**assessment_values(record)))


def copy_assessments_to_snapshot(session: Session, *, as_of: dt.date, at: dt.datetime) -> TaxSnapshot:
    """The nightly batch: copy every assessment into a new snapshot dated AS_OF; keep SNAPSHOTS_KEPT of them."""
    snapshot_id = int(
        session.execute(
            insert(tax_snapshots).values(as_of=as_of, loaded_at=at).returning(tax_snapshots.c.id)
        ).scalar_one()
    )
    source = select(literal(snapshot_id, Integer).label("snapshot_id"), *[tax_assessments.c[n] for n in _COPIED])
    session.execute(insert(tax_snapshot_rows).from_select(["snapshot_id", *_COPIED], source))
    older = select(tax_snapshots.c.id).order_by(tax_snapshots.c.id.desc()).offset(SNAPSHOTS_KEPT)
    old_ids = list(session.execute(older).scalars())
    if old_ids:
        session.execute(delete(tax_snapshot_rows).where(tax_snapshot_rows.c.snapshot_id.in_(old_ids)))
        session.execute(delete(tax_snapshots).where(tax_snapshots.c.id.in_(old_ids)))
    return TaxSnapshot(id=snapshot_id, as_of=as_of, loaded_at=at)


def fetch_latest_snapshot(session: Session) -> TaxSnapshot | None:
    """The newest snapshot the batch loaded; None before the first run."""
    row = session.execute(select(tax_snapshots).order_by(tax_snapshots.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return TaxSnapshot(id=row["id"], as_of=row["as_of"], loaded_at=row["loaded_at"])


def fetch_tax_statement(session: Session, *, person_id: int, fiscal_year: int) -> TaxStatement | None:
    """The person's record for FISCAL_YEAR in the latest snapshot, with that snapshot's as-of date."""
    snapshot = fetch_latest_snapshot(session)
    if snapshot is None:
        return None
    row = (
        session.execute(
            select(tax_snapshot_rows).where(
                tax_snapshot_rows.c.snapshot_id == snapshot.id,
                tax_snapshot_rows.c.person_id == person_id,
                tax_snapshot_rows.c.fiscal_year == fiscal_year,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else TaxStatement(snapshot=snapshot, record=_record_from_row(row))
