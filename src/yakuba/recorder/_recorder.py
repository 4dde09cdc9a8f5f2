"""The recorder as one object: fleet, media ledger, holds, viewing and the retention sweep, each change audited."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine

from yakuba.audit import (
    Actor,
    AuditEntry,
    AuditLog,
    FieldValue,
    create_log_keys,
    load_subject_secret,
    log_origin,
    subject_key,
)
from yakuba.clock import Clock, SystemClock
from yakuba.config import Deployment
from yakuba.database import in_transaction, make_engine, migrate
from yakuba.errors import ValidationError
from yakuba.recorder.errors import HoldReleaseError, SweepRefusedError, UnknownRecordError, ViewRefusedError
from yakuba.recorder.service import (
    GRANT_TTL,
    MAX_SWEEP_SHARE,
    VIEWING_ROLES,
    CardEventKind,
    CardState,
    Discrepancy,
    Fleet,
    HoldKind,
    PlaceKind,
    StaffRole,
    ViewGrant,
    apply_card_event,
    card_alerts,
    check_grant,
    check_view_allowed,
    erase_at,
    extend_retain_until,
    grant_digest,
    is_erasable,
    stock_take_discrepancies,
)
from yakuba.recorder.store import (
    CardEventRecord,
    FilesystemFootageStore,
    FootageStore,
    SegmentRecord,
    bump_retention_epoch,
    count_segments,
    delete_segments,
    fetch_active_holds,
    fetch_card,
    fetch_cards,
    fetch_grant,
    fetch_hold,
    fetch_policy,
    fetch_segment,
    fetch_segments_due,
    fetch_staff,
    insert_card_event,
    insert_fleet,
    insert_grant,
    insert_hold,
    release_hold_row,
    save_card,
    update_retain_until,
)

__all__ = [
    "DATABASE_URL",
    "LOG_NAME",
    "MIGRATIONS",
    "SWEEP_BATCH",
    "VERSION_TABLE",
    "FreeSpace",
    "Recorder",
    "SweepReport",
]

_T = TypeVar("_T")

LOG_NAME = "recorder"
DATABASE_URL = "sqlite:///recorder.sqlite3"
"""The recorder's database, relative to the deployment's state folder (config keys belong to the lead)."""
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "recorder_alembic_version"
SWEEP_BATCH = 2000
"""Segments erased per transaction: short write locks, and a hold placed meanwhile is seen by the next batch."""

FreeSpace = Callable[[Path], int]
"""Free bytes on the file system holding a path; injected so disk-full behaviour is testable."""


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepReport:
    examined: int
    erased: int
    kept_by_hold: int
    store_size: int


class Recorder:
    """Footage for one deployment: its own database (with its audit log), footage store, clock and disk probe."""

    def __init__(
        self,
        *,
        engine: Engine,
        footage: FootageStore,
        log: AuditLog,
        subject_secret: bytes,
        clock: Clock,
        free_space: FreeSpace = disk_free,
    ) -> None:
        self.engine = engine
        self.footage = footage
        self.log = log
        self.clock = clock
        self.free_space = free_space
        self._secret = subject_secret

    @classmethod
    def open(
        cls,
        *,
        database_url: str,
        footage_root: Path,
        key_dir: Path,
        origin: str,
        clock: Clock | None = None,
        free_space: FreeSpace = disk_free,
    ) -> Recorder:
        """Open (migrating, and creating keys on first use) the recorder at explicit places."""
        engine = make_engine(database_url)
        migrate(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE)
        create_log_keys(key_dir=key_dir, log_name=LOG_NAME, origin=origin)
        log = AuditLog.open(engine=engine, origin=origin)
        return cls(
            engine=engine,
            footage=FilesystemFootageStore(root=footage_root),
            log=log,
            subject_secret=load_subject_secret(key_dir=key_dir, log_name=LOG_NAME),
            clock=clock or SystemClock(),
            free_space=free_space,
        )

    @classmethod
    def from_deployment(
        cls,
        dep: Deployment,
        *,
        database_url: str | None = None,
        footage_root: Path | None = None,
        clock: Clock | None = None,
        free_space: FreeSpace = disk_free,
    ) -> Recorder:
        """The deployment's recorder: `recorder.sqlite3` and `footage/` in its state folder unless overridden."""
        return cls.open(
            database_url=dep.database_url(database_url or DATABASE_URL),
            footage_root=footage_root or dep.state_dir / "footage",
            key_dir=dep.key_dir,
            origin=log_origin(dep, LOG_NAME),
            clock=clock,
            free_space=free_space,
        )

    # -- audit -----------------------------------------------------------------------------------------

    def subject(self, kind: str, value: str) -> str:
        return subject_key(self._secret, kind, value)

    def audit(
        self, conn: Connection, event: str, *, staff_id: str | None, subject: str | None, fields: dict[str, FieldValue]
    ) -> None:
        actor = Actor(role="recorder", instance=LOG_NAME, staff_id=staff_id)
        self.log.append(
            conn, AuditEntry(event_type=event, actor=actor, time=self.clock.now(), subject=subject, fields=fields)
        )

    def _tx(self, work: Callable[[Connection], _T], what: str) -> _T:
        return in_transaction(self.engine, work, what=what)

    # -- fleet and ledger ------------------------------------------------------------------------------

    def install_fleet(self, fleet: Fleet, *, staff_id: str, counter_staff_id: str) -> None:
        """Load a fleet and register its cards: one inserted in each fitted recorder, spares in the safe."""
        serial_of = {r.vehicle_id: r.serial for r in fleet.recorders}

        def work(conn: Connection) -> None:
            insert_fleet(conn, fleet)
            self.audit(
                conn,
                "fleet.installed",
                staff_id=staff_id,
                subject=None,
                fields={
                    "vehicles": len(fleet.vehicles),
                    "recorders": len(fleet.recorders),
                    "staff_count": len(fleet.staff),
                },
            )
            for card_id, capacity in fleet.cards:
                self._card_event(
                    conn,
                    card_id,
                    CardEventKind.REGISTERED,
                    staff_id=staff_id,
                    reason="sample fleet",
                    capacity_bytes=capacity,
                )
                vehicle = card_id.split("-")[1]
                if vehicle in serial_of:
                    self._card_event(
                        conn,
                        card_id,
                        CardEventKind.INSERTED,
                        staff_id=staff_id,
                        reason="fitted",
                        place_ref=serial_of[vehicle],
                        counter_staff_id=counter_staff_id,
                    )

        self._tx(work, "installing the fleet")

    def _card_event(
        self,
        conn: Connection,
        card_id: str,
        kind: CardEventKind,
        *,
        staff_id: str,
        reason: str,
        counter_staff_id: str | None = None,
        place_ref: str | None = None,
        capacity_bytes: int = 0,
        due_back: dt.datetime | None = None,
    ) -> CardState:
        fetch_staff(conn, staff_id)
        if counter_staff_id is not None:
            fetch_staff(conn, counter_staff_id)
        if not reason.strip():
            raise ValidationError("every ledger event says why")
        before = fetch_card(conn, card_id)
        now = self.clock.now()
        after = apply_card_event(
            before,
            kind=kind,
            card_id=card_id,
            at=now,
            staff_id=staff_id,
            counter_staff_id=counter_staff_id,
            place_ref=place_ref,
            capacity_bytes=capacity_bytes,
            due_back=due_back,
        )
        save_card(conn, after, new=before is None)
        insert_card_event(
            conn,
            CardEventRecord(
                card_id=card_id,
                kind=kind,
                at=now,
                staff_id=staff_id,
                counter_staff_id=counter_staff_id,
                reason=reason,
                place=after.place,
                place_ref=after.place_ref,
            ),
        )
        self.audit(
            conn,
            f"media.{kind.value}",
            staff_id=staff_id,
            subject=self.subject("card", card_id),
            fields={"place": after.place.value, "countersigned": counter_staff_id is not None},
        )
        return after

    def record_card_event(
        self,
        card_id: str,
        kind: CardEventKind,
        *,
        staff_id: str,
        reason: str,
        counter_staff_id: str | None = None,
        place_ref: str | None = None,
        capacity_bytes: int = 0,
        due_back: dt.datetime | None = None,
    ) -> CardState:
        """Append one event to the media ledger (and the audit log) and return the card's new state."""
        return self._tx(
            lambda conn: self._card_event(
                conn,
                card_id,
                kind,
                staff_id=staff_id,
                reason=reason,
                counter_staff_id=counter_staff_id,
                place_ref=place_ref,
                capacity_bytes=capacity_bytes,
                due_back=due_back,
            ),
            "recording a card event",
        )

    def cards(self) -> list[CardState]:
        with self.engine.connect() as conn:
            return fetch_cards(conn)

    def stock_take(
        self, *, staff_id: str, scanned: Sequence[str], location: PlaceKind = PlaceKind.SAFE
    ) -> list[Discrepancy]:
        """Record a stock-take of the cards found at LOCATION and return the discrepancies with the ledger."""

        def work(conn: Connection) -> list[Discrepancy]:
            cards = fetch_cards(conn)
            found = stock_take_discrepancies(cards, scanned=scanned, location=location)
            known = {c.card_id for c in cards if c.place is not PlaceKind.DESTROYED}
            for card_id in sorted(set(scanned) & known):
                self._card_event(conn, card_id, CardEventKind.STOCK_TAKEN, staff_id=staff_id, reason="stock-take")
            self.audit(
                conn,
                "media.stock_take",
                staff_id=staff_id,
                subject=None,
                fields={"location": location.value, "scanned": len(set(scanned)), "discrepancies": len(found)},
            )
            return found

        return self._tx(work, "recording a stock-take")

    def card_alerts(self) -> list[Discrepancy]:
        return card_alerts(self.cards(), now=self.clock.now())

    # -- holds and incidents ---------------------------------------------------------------------------

    def place_hold(
        self,
        *,
        staff_id: str,
        kind: HoldKind,
        vehicle_id: str,
        window_start: dt.datetime,
        window_end: dt.datetime,
        description: str,
    ) -> int:
        """Open an incident, or record a police inquiry or provision, holding the vehicle's footage in the window."""
        if window_end <= window_start:
            raise ValidationError("a hold's window ends after it starts")

        def work(conn: Connection) -> int:
            person = fetch_staff(conn, staff_id)
            if person.role not in VIEWING_ROLES:
                raise ViewRefusedError(f"role {person.role.value} may not place holds")
            bump_retention_epoch(conn)
            hold_id = insert_hold(
                conn,
                kind=kind,
                vehicle_id=vehicle_id,
                window_start=window_start,
                window_end=window_end,
                description=description,
                placed_by=staff_id,
                now=self.clock.now(),
            )
            self.audit(
                conn,
                "hold.placed",
                staff_id=staff_id,
                subject=self.subject("hold", str(hold_id)),
                fields={
                    "hold_id": hold_id,
                    "kind": kind.value,
                    "vehicle": vehicle_id,
                    "window_start": window_start.isoformat(),
                    "window_end": window_end.isoformat(),
                },
            )
            return hold_id

        return self._tx(work, "placing a hold")

    def release_hold(self, *, staff_id: str, hold_id: int, reason: str) -> None:
        """Lift a hold: only explicitly, by the section chief, with a reason; audited."""

        def work(conn: Connection) -> None:
            if fetch_staff(conn, staff_id).role is not StaffRole.SECTION_CHIEF or not reason.strip():
                raise HoldReleaseError()
            bump_retention_epoch(conn)
            if not release_hold_row(conn, hold_id, released_by=staff_id, reason=reason, now=self.clock.now()):
                raise UnknownRecordError("no active hold with this id")
            self.audit(
                conn,
                "hold.released",
                staff_id=staff_id,
                subject=self.subject("hold", str(hold_id)),
                fields={"hold_id": hold_id},
            )

        self._tx(work, "releasing a hold")

    def extend_retention(self, *, staff_id: str, segment_id: int, until: dt.datetime) -> None:
        """Move a segment's retain-until later (never earlier: compliance mode)."""

        def work(conn: Connection) -> None:
            if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:
                raise ViewRefusedError("this role may not change retention")
            seg = fetch_segment(conn, segment_id)
            new_until = extend_retain_until(seg.retain_until, until)
            due = erase_at(end=seg.end, klass=seg.klass, policy=fetch_policy(conn), retain_until=new_until)
            bump_retention_epoch(conn)
            update_retain_until(conn, segment_id, retain_until=new_until, erase_at=due)
            self.audit(
                conn,
                "footage.retention_extended",
                staff_id=staff_id,
                subject=self.subject("segment", seg.sha256),
                fields={"retain_until": new_until.isoformat()},
            )

        self._tx(work, "extending retention")

    # -- viewing ---------------------------------------------------------------------------------------

    def grant_view(self, *, staff_id: str, segment_id: int, basis_hold_id: int, purpose: str) -> str:
        """Log a view and return a short-lived token for streaming this one segment; refusals are logged too."""
        now = self.clock.now()
        token = secrets.token_urlsafe(32)

        def work(conn: Connection) -> None:
            seg = fetch_segment(conn, segment_id)
            check_view_allowed(
                staff=fetch_staff(conn, staff_id),
                segment=seg.times,
                basis=fetch_hold(conn, basis_hold_id),
                purpose=purpose,
                now=now,
            )
            grant = ViewGrant(
                grant_digest=grant_digest(token),
                staff_id=staff_id,
                segment_id=segment_id,
                basis_hold_id=basis_hold_id,
                purpose=purpose,
                expires_at=now + GRANT_TTL,
            )
            insert_grant(conn, grant, now=now)
            self.audit(
                conn,
                "footage.viewed",
                staff_id=staff_id,
                subject=self.subject("segment", seg.sha256),
                fields={
                    "segment_id": segment_id,
                    "basis_hold_id": basis_hold_id,
                    "purpose_sha256": hashlib.sha256(purpose.encode("utf-8")).hexdigest(),
                },
            )

        try:
            self._tx(work, "granting a view")
        except ViewRefusedError:
            self._tx(
                lambda conn: self.audit(
                    conn,
                    "footage.view_refused",
                    staff_id=staff_id,
                    subject=None,
                    fields={"segment_id": segment_id, "basis_hold_id": basis_hold_id},
                ),
                "logging a refused view",
            )
            raise
        return token

    def open_grant(self, *, token: str, segment_id: int) -> Path:
        """The footage file a valid grant TOKEN lets its holder stream; raises ViewGrantError otherwise."""
        with self.engine.connect() as conn:
            check_grant(
                fetch_grant(conn, grant_digest(token)), token=token, segment_id=segment_id, now=self.clock.now()
            )
            seg = fetch_segment(conn, segment_id)
        return self.footage.path_of(seg.sha256)

    def segment(self, segment_id: int) -> SegmentRecord:
        with self.engine.connect() as conn:
            return fetch_segment(conn, segment_id)

    # -- retention sweep -------------------------------------------------------------------------------

    def sweep(self, *, confirmed_by: str | None = None, confirm_count: int | None = None) -> SweepReport:
        """Erase every segment that is due and not held.

        1. Find segments past erase-at (the week rule or a longer lock) and not under a hold.
        2. Refuse if that is more than half of the store (a wrong clock or policy would otherwise wipe the
           evidence); the refusal is audited. A section chief who has looked may let it run by confirming
           the exact count (CONFIRMED_BY, CONFIRM_COUNT): a recorder that stopped recording would otherwise
           keep its last week forever. The confirmation is audited; a wrong count is refused.
        3. Per batch, in one transaction: take the retention lock, re-read holds *now* and re-check each
           segment (stops erasing footage a hold was placed on since step 1), delete the rows, write one
           deletion record per segment (hash, times, rule), erase the files; then commit.
        """
        now = self.clock.now()
        due, erasable, total = self._sweep_candidates(now)  # step 1
        over_half = bool(erasable) and len(erasable) > total * MAX_SWEEP_SHARE
        if over_half and confirmed_by is not None and confirm_count == len(erasable):  # step 2, confirmed

            def confirm(conn: Connection) -> None:
                if fetch_staff(conn, confirmed_by).role is not StaffRole.SECTION_CHIEF:
                    raise SweepRefusedError("only the section chief may confirm a sweep of over half the store")
                self.audit(
                    conn,
                    "retention.sweep_confirmed",
                    staff_id=confirmed_by,
                    subject=None,
                    fields={"due": len(erasable), "store_size": total},
                )

            self._tx(confirm, "confirming a sweep")
        elif over_half:  # step 2
            self._tx(
                lambda conn: self.audit(
                    conn,
                    "retention.sweep_refused",
                    staff_id=None,
                    subject=None,
                    fields={"due": len(erasable), "store_size": total},
                ),
                "logging a refusal",
            )
            raise SweepRefusedError(
                f"the sweep would erase {len(erasable)} of {total} segments; if that is right, the section chief "
                f"confirms it with --confirmed-by STAFF --confirm-count {len(erasable)}"
            )
        erased = 0
        for start in range(0, len(erasable), SWEEP_BATCH):
            batch = erasable[start : start + SWEEP_BATCH]
            erased += self._tx(functools.partial(self._erase_batch, batch=batch, now=now), "sweeping")  # step 3
        return SweepReport(examined=len(due), erased=erased, kept_by_hold=len(due) - len(erasable), store_size=total)

    def sweep_preview(self) -> tuple[int, int]:
        """(segments the next sweep would erase, segments in the store): what a section chief checks before
        confirming a sweep of over half the store."""
        _due, erasable, total = self._sweep_candidates(self.clock.now())
        return len(erasable), total

    def _sweep_candidates(self, now: dt.datetime) -> tuple[list[SegmentRecord], list[SegmentRecord], int]:
        with self.engine.connect() as conn:
            due = fetch_segments_due(conn, now=now)
            total = count_segments(conn)
            holds = fetch_active_holds(conn, now=now)
        return due, [s for s in due if is_erasable(s.times, holds, now=now)], total

    def _erase_batch(self, conn: Connection, *, batch: list[SegmentRecord], now: dt.datetime) -> int:
        bump_retention_epoch(conn)
        holds = fetch_active_holds(conn, now=now)
        doomed = [s for s in batch if is_erasable(s.times, holds, now=now)]
        if not doomed:
            return 0
        delete_segments(conn, [s.segment_id for s in doomed])
        actor = Actor(role="recorder", instance=LOG_NAME)
        self.log.append_many(
            conn,
            [
                AuditEntry(
                    event_type="footage.erased",
                    actor=actor,
                    time=now,
                    subject=self.subject("segment", s.sha256),
                    fields={
                        "sha256": s.sha256,
                        "vehicle": s.vehicle_id,
                        "start": s.start.isoformat(),
                        "end": s.end.isoformat(),
                        "rule": "lock" if s.erase_at == s.retain_until else f"maximum:{s.klass}",
                    },
                )
                for s in doomed
            ],
        )
        for s in doomed:
            self.footage.erase(s.sha256)
            if s.gps_sha256 is not None:  # the location track goes with its footage
                self.footage.erase(s.gps_sha256)
        return len(doomed)
