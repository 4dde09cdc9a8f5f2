"""Ingest of a card dump: times from the container, one read per file (hash while copying), checked, catalogued."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from sqlalchemy import Connection

from yakuba.audit import FieldValue
from yakuba.recorder._recorder import Recorder
from yakuba.recorder._verify import CheckedSegment, check_segment
from yakuba.recorder.errors import CorruptSegmentError, DiskFullError, UnknownRecordError, ViewRefusedError
from yakuba.recorder.service import MINIMUM_RETENTION, VIEWING_ROLES, CardEventKind, erase_at
from yakuba.recorder.store import (
    FootageStore,
    SegmentRecord,
    StagedFile,
    VerifyLevel,
    fetch_policy,
    fetch_segment_by_sha,
    fetch_staff,
    finish_ingest,
    insert_rejected_file,
    insert_segment,
    start_ingest,
    vehicle_exists,
)

__all__ = ["DISK_RESERVE_BYTES", "EVENT_FOLDERS", "STAGE_AHEAD", "IngestReport", "Progress", "ingest_card"]

DISK_RESERVE_BYTES = 512 * 1024 * 1024
"""Free space kept on the footage disk: the database, its WAL and the audit log must still be writable."""

EVENT_FOLDERS = frozenset({"event", "emer", "emergency", "evt", "g-sensor"})
"""Folders where recorders put G-sensor event files (names differ by brand; compared in lower case)."""

STAGE_AHEAD = 2
"""Files copied, hashed and checked at once, ahead of the one being catalogued: one per core on the 2-core
machines the city runs (SHA-256, file I/O and the decoder release the GIL)."""

Progress = Callable[[int, int], None]
"""Called after each file with (files done, bytes done)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    ingest_id: int
    files: int
    stored: int
    duplicates: int
    rejected: tuple[str, ...]
    bytes_read: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Prepared:
    """One card file copied into the store's scratch space, hashed and checked (not yet committed)."""

    staged: StagedFile
    checked: CheckedSegment | CorruptSegmentError
    gps_sha256: str | None


def _card_files(card_dir: Path) -> tuple[list[Path], dict[str, Path]]:
    """The card's video files in order, and its NMEA sidecars by file stem (one walk of the card)."""
    videos: list[Path] = []
    sidecars: dict[str, Path] = {}
    for path in sorted(p for p in card_dir.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix == ".mp4":
            videos.append(path)
        elif suffix == ".nmea":
            sidecars.setdefault(path.stem, path)
    return videos, sidecars


def _prepare(store: FootageStore, path: Path, sidecar: Path | None) -> _Prepared:
    """Copy PATH into the store's scratch space while hashing it (the one read of the card), then check the
    copy; a good segment's GPS track is stored too. Runs on a worker thread."""
    staged = store.stage(path)
    try:
        try:
            checked: CheckedSegment | CorruptSegmentError = check_segment(staged.path)
        except CorruptSegmentError as exc:
            checked = exc
        gps = None
        if sidecar is not None and not isinstance(checked, CorruptSegmentError):
            gps = store.put_file(sidecar).sha256
    except BaseException:
        store.discard(staged)
        raise
    return _Prepared(staged=staged, checked=checked, gps_sha256=gps)


def _discard_unused(store: FootageStore, futures: list[Future[_Prepared]]) -> None:
    """Drop the scratch copies of files prepared ahead that an interrupted ingest never reached (called once
    the pool has shut down, so every future is cancelled or done)."""
    for future in futures:
        if not future.cancelled() and future.exception() is None:
            store.discard(future.result().staged)


def ingest_card(
    rec: Recorder,
    card_dir: Path,
    *,
    vehicle_id: str,
    staff_id: str,
    card_id: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest every segment of a card dump; re-running after an interruption finishes the job.

    1. Check the vehicle and that the person may handle footage (drivers may not).
    2. Per file, in card order, with the next STAGE_AHEAD files prepared on worker threads:
       a. before a file is copied, stop with an alarm if the disk would fall under its reserve (counting
          the files in flight; nothing is erased to make room);
       b. copy it into the store's scratch space while hashing it (one read of the card), fsync, and check
          the copy structurally (`check_segment`: index, every sample, timestamps, first keyframe and last GOP
          decoded; the full decode is the scrub's job, after ingest);
       c. a file that fails is moved aside (the scratch copy, no second copy), recorded and reported,
          never dropped;
       d. a good one is committed under its hash (write-once, content addressed: a file already stored, by
          this run or an interrupted one, is not stored again), then catalogued at level "structure" with
          its audit entry in one transaction, unless its hash is catalogued already (so a resumed ingest
          neither duplicates nor loses a segment).
    3. Record the copy in the media ledger and close the ingest.
    """
    with rec.engine.connect() as conn:  # step 1
        if not vehicle_exists(conn, vehicle_id):
            raise UnknownRecordError("no such vehicle")
        if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:
            raise ViewRefusedError("this role may not handle footage")
        policy = fetch_policy(conn)
    files, sidecars = _card_files(card_dir)
    rec.footage.discard_orphans()  # scratch copies of an ingest killed mid-file
    now = rec.clock.now()

    def begin(conn: Connection) -> int:
        ingest_id = start_ingest(conn, vehicle_id=vehicle_id, card_id=card_id, staff_id=staff_id, now=now)
        rec.audit(
            conn,
            "ingest.started",
            staff_id=staff_id,
            subject=rec.subject("vehicle", vehicle_id),
            fields={"ingest_id": ingest_id, "files": len(files)},
        )
        return ingest_id

    ingest_id = rec._tx(begin, "starting an ingest")
    stored = duplicates = done_bytes = 0
    rejected: list[str] = []
    queue: deque[tuple[Path, int, Future[_Prepared] | None]] = deque()
    pending = iter(files)
    try:
        with ThreadPoolExecutor(max_workers=STAGE_AHEAD, thread_name_prefix="ingest") as pool:

            def submit_next() -> None:
                path = next(pending, None)
                if path is None or (queue and queue[-1][2] is None):
                    return
                size = path.stat().st_size
                in_flight = sum(s for _p, s, _f in queue)
                if rec.free_space(rec.footage.root) - in_flight - size < DISK_RESERVE_BYTES:  # step 2a
                    queue.append((path, size, None))
                else:
                    queue.append((path, size, pool.submit(_prepare, rec.footage, path, sidecars.get(path.stem))))

            for _ in range(STAGE_AHEAD):
                submit_next()
            count = 0
            while queue:
                path, size, future = queue.popleft()
                if future is None:
                    _disk_full(rec, ingest_id=ingest_id, staff_id=staff_id, stored=stored)
                prepared = future.result()  # step 2b, done on a worker
                submit_next()
                name = str(path.relative_to(card_dir))
                if isinstance(prepared.checked, CorruptSegmentError):  # step 2c
                    _reject(rec, prepared.staged, prepared.checked, name=name, ingest_id=ingest_id, staff_id=staff_id)
                    rejected.append(name)
                else:  # step 2d
                    obj = rec.footage.commit(prepared.staged)
                    klass = "event" if any(p.lower() in EVENT_FOLDERS for p in Path(name).parts[:-1]) else "normal"
                    retain_until = prepared.checked.end + MINIMUM_RETENTION
                    record = SegmentRecord(
                        segment_id=0,
                        sha256=obj.sha256,
                        vehicle_id=vehicle_id,
                        klass=klass,
                        start=prepared.checked.start,
                        end=prepared.checked.end,
                        size_bytes=obj.size_bytes,
                        source_name=name[:255],
                        gps_sha256=prepared.gps_sha256,
                        retain_until=retain_until,
                        erase_at=erase_at(
                            end=prepared.checked.end, klass=klass, policy=policy, retain_until=retain_until
                        ),
                    )
                    if _catalogue(rec, record, ingest_id=ingest_id, staff_id=staff_id):
                        stored += 1
                    else:
                        duplicates += 1
                done_bytes += size
                count += 1
                if progress is not None:
                    progress(count, done_bytes)
    finally:
        _discard_unused(rec.footage, [f for _p, _s, f in queue if f is not None])

    def finish(conn: Connection) -> None:  # step 3
        finish_ingest(
            conn, ingest_id, now=rec.clock.now(), stored=stored, duplicates=duplicates, rejected=len(rejected)
        )
        if card_id is not None:
            rec._card_event(conn, card_id, CardEventKind.COPIED, staff_id=staff_id, reason=f"ingest {ingest_id}")
        rec.audit(
            conn,
            "ingest.finished",
            staff_id=staff_id,
            subject=rec.subject("vehicle", vehicle_id),
            fields={"ingest_id": ingest_id, "stored": stored, "duplicates": duplicates, "rejected": len(rejected)},
        )

    rec._tx(finish, "closing an ingest")
    return IngestReport(
        ingest_id=ingest_id,
        files=len(files),
        stored=stored,
        duplicates=duplicates,
        rejected=tuple(rejected),
        bytes_read=done_bytes,
    )


def _disk_full(rec: Recorder, *, ingest_id: int, staff_id: str, stored: int) -> NoReturn:
    alarm: dict[str, FieldValue] = {"ingest_id": ingest_id, "stored": stored}
    rec._tx(
        functools.partial(rec.audit, event="ingest.disk_full", staff_id=staff_id, subject=None, fields=alarm),
        "raising the alarm",
    )
    raise DiskFullError()


def _reject(
    rec: Recorder, staged: StagedFile, error: CorruptSegmentError, *, name: str, ingest_id: int, staff_id: str
) -> None:
    """Keep a file that failed its check aside and record it in the ingest's rejected files and the audit log."""
    reason = error.text_en
    sha = staged.sha256
    kept = rec.footage.set_aside(staged, batch=f"ingest-{ingest_id}", name=Path(name).name)

    def work(conn: Connection) -> None:
        insert_rejected_file(conn, ingest_id=ingest_id, source_name=name, sha256=sha, reason=reason, kept_at=str(kept))
        rec.audit(
            conn,
            "footage.rejected",
            staff_id=staff_id,
            subject=None,
            fields={"ingest_id": ingest_id, "sha256": sha, "reason": reason[:200]},
        )

    rec._tx(work, "recording a rejected file")


def _catalogue(rec: Recorder, record: SegmentRecord, *, ingest_id: int, staff_id: str) -> bool:
    """Catalogue a committed segment with its audit entry; False when its hash is catalogued already."""

    def work(conn: Connection) -> bool:
        if fetch_segment_by_sha(conn, record.sha256) is not None:
            return False
        segment_id = insert_segment(conn, ingest_id=ingest_id, record=record)
        rec.audit(
            conn,
            "footage.ingested",
            staff_id=staff_id,
            subject=rec.subject("segment", record.sha256),
            fields={
                "segment_id": segment_id,
                "ingest_id": ingest_id,
                "sha256": record.sha256,
                "vehicle": record.vehicle_id,
                "klass": record.klass,
                "start": record.start.isoformat(),
                "end": record.end.isoformat(),
                "verified": VerifyLevel.STRUCTURE.value,
            },
        )
        return True

    return rec._tx(work, "cataloguing a segment")
