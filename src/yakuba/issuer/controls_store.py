"""The issuer's service controls table (migration 0003): what the city's console sets and the issuer enforces."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, RowMapping, String, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from yakuba.errors import StoreError
from yakuba.issuer.audit_trail import AuditWrite
from yakuba.issuer.service_controls import ServiceControl

__all__ = ["SqlServiceControls", "service_controls_table"]

_Id = BigInteger().with_variant(Integer(), "sqlite")

service_controls_table = Table(
    "service_controls",
    MetaData(),
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=True),
    Column("starts_at", String(32), nullable=True),
    Column("ends_at", String(32), nullable=True),
    Column("note", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("lifted_at", String(32), nullable=True),
    Column("lifted_by", String(64), nullable=True),
)
"""Matches migration 0003; times are UTC ISO text like the issuance log's."""


def _text(when: dt.datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        raise ValueError("naive datetime given to the service controls")
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def _time(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def _control(row: RowMapping) -> ServiceControl:
    created = _time(row["created_at"])
    assert created is not None
    return ServiceControl(
        id=int(row["id"]),
        kind=row["kind"],
        starts_at=_time(row["starts_at"]),
        ends_at=_time(row["ends_at"]),
        note=row["note"],
        created_at=created,
        created_by=row["created_by"],
        lifted_at=_time(row["lifted_at"]),
        lifted_by=row["lifted_by"],
    )


class SqlServiceControls:
    """Service controls in the issuer's database; the issuer reads them on every request (one small indexed
    read), so a control set in one console takes effect at once in every process of the issuer."""

    def __init__(self, *, engine: Engine) -> None:
        self._engine = engine

    def active_controls(self, at: dt.datetime) -> list[ServiceControl]:
        """Controls not lifted and not ended before AT."""
        table = service_controls_table
        now = _text(at)
        query = select(table).where(table.c.lifted_at.is_(None), (table.c.ends_at.is_(None)) | (table.c.ends_at > now))
        return [_control(row) for row in self._read(query)]

    def list_controls(self, *, limit: int = 100) -> list[ServiceControl]:
        """The newest LIMIT controls, lifted ones included (the console's history)."""
        query = select(service_controls_table).order_by(service_controls_table.c.id.desc()).limit(limit)
        return [_control(row) for row in self._read(query)]

    def add(self, control: ServiceControl, *, audit: AuditWrite | None = None) -> int:
        """Store CONTROL, with AUDIT (who set it) in the same transaction; its new id."""
        values = {
            "kind": control.kind,
            "starts_at": _text(control.starts_at),
            "ends_at": _text(control.ends_at),
            "note": control.note,
            "created_at": _text(control.created_at),
            "created_by": control.created_by,
        }
        try:
            with self._engine.begin() as conn:
                key = conn.execute(insert(service_controls_table).values(**values)).inserted_primary_key
                assert key is not None
                if audit is not None:
                    audit.write(conn)
                return int(key[0])
        except SQLAlchemyError as exc:
            raise StoreError(f"service control not saved ({type(exc).__name__})") from exc

    def lift(self, control_id: int, *, at: dt.datetime, by: str, audit: AuditWrite | None = None) -> bool:
        """Lift a control still in force, with AUDIT in the same transaction; whether this call lifted it (and
        nothing is audited when it did not)."""
        table = service_controls_table
        try:
            with self._engine.begin() as conn:
                done = conn.execute(
                    update(table)
                    .where(table.c.id == control_id, table.c.lifted_at.is_(None))
                    .values(lifted_at=_text(at), lifted_by=by)
                )
                if done.rowcount == 1 and audit is not None:
                    audit.write(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"service control not lifted ({type(exc).__name__})") from exc
        return done.rowcount == 1

    def _read(self, query: object) -> list[RowMapping]:
        try:
            with self._engine.connect() as conn:
                return list(conn.execute(query).mappings())  # type: ignore[call-overload]
        except SQLAlchemyError as exc:
            raise StoreError(f"service controls not readable ({type(exc).__name__})") from exc
