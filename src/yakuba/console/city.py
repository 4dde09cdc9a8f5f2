"""What the console reads and changes for its city: the issuers' logs and service controls, the center's
settlement and suspension, the audit logs. Every store here is another component's; the console reuses it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from yakuba.audit import Actor, AuditEntry, AuditLog, FieldValue
from yakuba.center import find_suspension, resume_city, settlement_report
from yakuba.center.ports import CitySuspension, SettlementRow
from yakuba.clock import JST, Clock
from yakuba.config import CityConfig, Deployment
from yakuba.errors import NotFoundError, ValidationError
from yakuba.forwarder.routing import SYSTEM_OF_KIND
from yakuba.issuer.audit_trail import AuditWrite
from yakuba.issuer.controls_store import SqlServiceControls
from yakuba.issuer.log_entry import DocumentStatus, document_status_of, serial_prefix
from yakuba.issuer.service_controls import ServiceControl, new_kind_suspension, new_window
from yakuba.issuer.store import IssuanceLogStore, issuance_log

__all__ = ["LOG_PAGE_SIZE", "CityOffice", "DayGroup", "LogLine"]

LOG_PAGE_SIZE = 50
"""Rows per page of the issuance log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogLine:
    """One issuance log row as staff see it: ids, kind, place, outcome; no hashes, no envelope, no content."""

    issuer: str
    created_at: dt.datetime
    transaction_id: str
    kiosk_id: str
    chain_id: str
    kind: str
    basis: str
    copies: int
    fee_yen: int
    status: str
    reason: str | None
    serial: str | None
    copies_printed: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DayGroup:
    """Transactions of one day sharing kind, chain, status, basis and hour (JST), with their copies and yen."""

    kind: str
    chain_id: str
    status: str
    basis: str
    jst_hour: int
    transactions: int
    copies_printed: int
    yen: int


_LOG_COLUMNS = (
    issuance_log.c.created_at,
    issuance_log.c.transaction_id,
    issuance_log.c.kiosk_id,
    issuance_log.c.chain_id,
    issuance_log.c.kind,
    issuance_log.c.basis,
    issuance_log.c.copies,
    issuance_log.c.fee_yen,
    issuance_log.c.status,
    issuance_log.c.reason,
    issuance_log.c.serial,
    issuance_log.c.copies_printed,
)


def jst_day_bounds(day: dt.date) -> tuple[str, str]:
    """The UTC text bounds [start, end) of a JST day, in the issuance log's timestamp format."""
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=JST).astimezone(dt.UTC)
    end = start + dt.timedelta(days=1)
    return start.isoformat(timespec="microseconds"), end.isoformat(timespec="microseconds")


class CityOffice:
    """The city's issuers (their logs and controls) and its view of the center, opened once per console."""

    def __init__(self, *, dep: Deployment, city: CityConfig, clock: Clock) -> None:
        self.dep = dep
        self.city = city
        self.clock = clock
        self._logs: dict[str, IssuanceLogStore] = {}
        try:
            for issuer in city.issuers:
                # Migrating is safe beside a running issuer (one schema lock) and gives the controls table
                # even before the issuer first started.
                self._logs[issuer.instance] = IssuanceLogStore.from_url(dep.database_url(issuer.database))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for log in self._logs.values():
            log.dispose()
        self._logs.clear()

    @property
    def issuer_ids(self) -> tuple[str, ...]:
        return tuple(self._logs)

    # --- the issuance log ---------------------------------------------------------------------------------
    def log_lines(self, *, day: dt.date | None = None, limit: int = LOG_PAGE_SIZE, offset: int = 0) -> list[LogLine]:
        """The newest lines of every issuer of the city (of DAY in JST when given), newest first."""
        lines: list[LogLine] = []
        for issuer, log in self._logs.items():
            query = select(*_LOG_COLUMNS).order_by(issuance_log.c.id.desc()).limit(limit + offset)
            if day is not None:
                start, end = jst_day_bounds(day)
                query = query.where(issuance_log.c.created_at >= start, issuance_log.c.created_at < end)
            with log.engine.connect() as conn:
                for row in conn.execute(query).mappings():
                    lines.append(
                        LogLine(
                            issuer=issuer,
                            created_at=dt.datetime.fromisoformat(row["created_at"]),
                            **{k: row[k] for k in row if k != "created_at"},
                        )
                    )
        lines.sort(key=lambda line: line.created_at, reverse=True)
        return lines[offset : offset + limit]

    def day_groups(self, day: dt.date) -> list[DayGroup]:
        """The log of DAY (JST) summed in the database per kind, chain, status, basis and UTC hour: a handful of
        rows whatever the day's volume, so the statistics page costs the same on a busy day."""
        start, end = jst_day_bounds(day)
        t = issuance_log.c
        hour = func.substr(t.created_at, 12, 2)
        query = (
            select(
                t.kind,
                t.chain_id,
                t.status,
                t.basis,
                hour.label("utc_hour"),
                func.count().label("transactions"),
                func.coalesce(func.sum(t.copies_printed), 0).label("copies_printed"),
                func.coalesce(func.sum(t.copies_printed * t.fee_yen), 0).label("yen"),
            )
            .where(t.created_at >= start, t.created_at < end)
            .group_by(t.kind, t.chain_id, t.status, t.basis, hour)
        )
        groups: list[DayGroup] = []
        for log in self._logs.values():
            with log.engine.connect() as conn:
                for row in conn.execute(query).mappings():
                    groups.append(
                        DayGroup(
                            kind=row["kind"],
                            chain_id=row["chain_id"],
                            status=row["status"],
                            basis=row["basis"],
                            # JST is UTC+9 all year (no summer time), so the hour maps without a zone database.
                            jst_hour=(int(row["utc_hour"]) + 9) % 24,
                            transactions=int(row["transactions"]),
                            copies_printed=int(row["copies_printed"]),
                            yen=int(row["yen"]),
                        )
                    )
        return groups

    def count_log_lines(self) -> int:
        total = 0
        for log in self._logs.values():
            with log.engine.connect() as conn:
                total += int(conn.execute(select(func.count()).select_from(issuance_log)).scalar_one())
        return total

    # --- the center: settlement and suspension --------------------------------------------------------
    def settlement(self, month: str) -> list[SettlementRow]:
        """The center's settlement of MONTH for this city only (yakuba.center.settlement_report)."""
        return [row for row in settlement_report(self.dep, month) if row.city == self.city.code]

    def suspension(self) -> CitySuspension | None:
        return find_suspension(self.dep, self.city.code)

    def resume(self) -> bool:
        """Lift the city's suspension at the center (as `yakuba center resume` does)."""
        return resume_city(self.dep, self.city.code)

    # --- service controls -------------------------------------------------------------------------------
    def _controls_of(self, issuer: str) -> SqlServiceControls:
        return SqlServiceControls(engine=self._logs[issuer].engine)

    def _audited(self, issuer: str, event_type: str, *, by: str, **fields: FieldValue) -> AuditWrite:
        """The issuer's audit entry of a staff action (the issuer's own log, in its database: the control and
        its entry commit together). The issuer must have started once, creating its log."""
        assert self.city.console is not None
        entry = AuditEntry(
            event_type=event_type,
            actor=Actor(role="console", instance=self.city.console.instance, staff_id=by),
            time=self.clock.now(),
            fields={"issuer": issuer, **fields},
        )
        return AuditWrite(log=AuditLog.attach(engine=self._logs[issuer].engine), entry=entry)

    def _issuer_of_kind(self, kind: str) -> str:
        system = SYSTEM_OF_KIND.get(kind)
        for issuer in self.city.issuers:
            if issuer.system == system:
                return issuer.instance
        raise ValidationError(f"unknown certificate kind {kind!r}", ja="証明書の種類が正しくありません")

    def controls(self) -> list[tuple[str, ServiceControl]]:
        """Every issuer's controls (newest first), with the issuer holding each."""
        found = [(issuer, c) for issuer in self._logs for c in self._controls_of(issuer).list_controls()]
        found.sort(key=lambda pair: pair[1].created_at, reverse=True)
        return found

    def suspend_kind(self, kind: str, *, note: str, by: str) -> None:
        """Stop KIND at the issuer that holds it, from now until lifted; audited with staff login BY."""
        issuer = self._issuer_of_kind(kind)
        control = new_kind_suspension(kind=kind, note=note, at=self.clock.now(), by=f"staff:{by}")
        audit = self._audited(issuer, "service.kind_suspended", by=by, kind=kind)
        self._controls_of(issuer).add(control, audit=audit)

    def add_window(self, *, starts_at: dt.datetime, ends_at: dt.datetime, note: str, by: str) -> None:
        """A maintenance window for every kind: written to each issuer of the city, audited in each."""
        control = new_window(starts_at=starts_at, ends_at=ends_at, note=note, at=self.clock.now(), by=f"staff:{by}")
        for issuer in self._logs:
            audit = self._audited(
                issuer,
                "service.maintenance_set",
                by=by,
                starts_at=starts_at.astimezone(dt.UTC).isoformat(),
                ends_at=ends_at.astimezone(dt.UTC).isoformat(),
            )
            self._controls_of(issuer).add(control, audit=audit)

    def lift(self, issuer: str, control_id: int, *, by: str) -> bool:
        """Lift a control of ISSUER; audited with staff login BY when it was in force."""
        if issuer not in self._logs:
            raise NotFoundError("no such issuer in this city", ja="この市区町村の発行サーバではありません")
        audit = self._audited(issuer, "service.control_lifted", by=by, control_id=control_id)
        return self._controls_of(issuer).lift(control_id, at=self.clock.now(), by=f"staff:{by}", audit=audit)

    # --- verification -----------------------------------------------------------------------------------
    def serial_status(self, serial: str) -> DocumentStatus:
        """What the issuer's verification endpoint answers for SERIAL, read from the issuer of the city that
        its prefix names; NotFoundError for another city's serial or one never issued."""
        for issuer in self.city.issuers:
            if serial.startswith(serial_prefix(city_code=self.city.code, system=issuer.system) + "-"):
                entry = self._logs[issuer.instance].fetch_by_serial(serial)
                return document_status_of(entry, serial=serial, city_code=self.city.code)
        raise NotFoundError(
            "no certificate with this serial was issued by this city",
            ja="この番号の証明書はこの市区町村で発行されていません",
        )

    def today(self) -> dt.date:
        return self.clock.now().astimezone(JST).date()
