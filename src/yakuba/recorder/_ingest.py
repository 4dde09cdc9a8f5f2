"""Ingest of a card dump: times from the container, every frame decoded, hashed, stored write-once, catalogued."""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from yakuba.audit import FieldValue
from yakuba.recorder._recorder import Recorder
from yakuba.recorder.errors import CorruptSegmentError, DiskFullError, UnknownRecordError, ViewRefusedError
from yakuba.recorder.media import ProbedSegment, probe_segment
from yakuba.recorder.service import MINIMUM_RETENTION, VIEWING_ROLES, CardEventKind, erase_at
from yakuba.recorder.store import (
    COPY_CHUNK_BYTES,
    SegmentRecord,
    fetch_policy,
    fetch_segment_by_sha,
    fetch_staff,
    finish_ingest,
    insert_rejected_file,
    insert_segment,
    start_ingest,
    vehicle_exists,
)

__all__ = ["DISK_RESERVE_BYTES", "EVENT_FOLDERS", "PROBE_AHEAD", "IngestReport", "Progress", "ingest_card"]

DISK_RESERVE_BYTES = 512 * 1024 * 1024
"""Free space kept on the footage disk: the database, its WAL and the audit log must still be writable."""

EVENT_FOLDERS = frozenset({"event", "emer", "emergency", "evt", "g-sensor"})
"""Folders where recorders put G-sensor event files (names differ by brand; compared in lower case)."""

PROBE_AHEAD = 2
"""Files decoded ahead of the one being copied: one per core on the 2-core machines the city runs."""

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


def _card_files(card_dir: Path) -> list[Path]:
    return sorted(p for p in card_dir.rglob("*") if p.is_file() and p.suffix.lower() == ".mp4")


def _sidecar(video: Path, card_dir: Path) -> Path | None:
    for candidate in card_dir.rglob(video.stem + ".*"):
        if candidate.suffix.lower() == ".nmea":
            return candidate
    return None


def _probe(path: Path) -> ProbedSegment | CorruptSegmentError:
    try:
        return probe_segment(path)
    except CorruptSegmentError as exc:
        return exc


def _probed_ahead(files: list[Path]) -> Iterator[tuple[Path, ProbedSegment | CorruptSegmentError]]:
    """Yield each file with its probe result, in order, while the next PROBE_AHEAD files decode on other threads."""
    with ThreadPoolExecutor(max_workers=PROBE_AHEAD, thread_name_prefix="probe") as pool:
        queue: deque[tuple[Path, Future[ProbedSegment | CorruptSegmentError]]] = deque()
        remaining = iter(files)
        for path in itertools.islice(remaining, PROBE_AHEAD):
            queue.append((path, pool.submit(_probe, path)))
        while queue:
            path, future = queue.popleft()
            following = next(remaining, None)
            if following is not None:
                queue.append((following, pool.submit(_probe, following)))
            yield path, future.result()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


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
    2. Per file, in card order, with the next files decoded ahead on other cores:
       a. stop with an alarm if the disk would fall under its reserve (nothing is erased to make room);
       b. a file that does not decode is copied aside, recorded and reported, never dropped;
       c. copy it into the store while hashing (write-once, content addressed: a file already stored,
          by this run or an interrupted one, is not stored again);
       d. catalogue the segment and its audit entry in one transaction, unless its hash is catalogued
          already (so a resumed ingest neither duplicates nor loses a segment).
    3. Record the copy in the media ledger and close the ingest.
    """
    with rec.engine.connect() as conn:  # step 1
        if not vehicle_exists(conn, vehicle_id):
            raise UnknownRecordError("no such vehicle")
        if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:
            raise ViewRefusedError("this role may not handle footage")
        policy = fetch_policy(conn)
    files = _card_files(card_dir)
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
    for count, (path, probed) in enumerate(_probed_ahead(files), start=1):  # step 2
        size = path.stat().st_size
        if rec.free_space(rec.footage.root) - size < DISK_RESERVE_BYTES:  # step 2a
            alarm: dict[str, FieldValue] = {"ingest_id": ingest_id, "stored": stored}
            rec._tx(
                functools.partial(rec.audit, event="ingest.disk_full", staff_id=staff_id, subject=None, fields=alarm),
                "raising the alarm",
            )
            raise DiskFullError()
        name = str(path.relative_to(card_dir))
        if isinstance(probed, CorruptSegmentError):  # step 2b
            sha = _sha256_of(path)
            kept = rec.footage.keep_aside(path, batch=f"ingest-{ingest_id}")
            reason = probed.text_en

            def reject(
                conn: Connection, sha: str = sha, reason: str = reason, kept: Path = kept, name: str = name
            ) -> None:
                insert_rejected_file(
                    conn, ingest_id=ingest_id, source_name=name, sha256=sha, reason=reason, kept_at=str(kept)
                )
                rec.audit(
                    conn,
                    "footage.rejected",
                    staff_id=staff_id,
                    subject=None,
                    fields={"ingest_id": ingest_id, "sha256": sha, "reason": reason[:200]},
                )

            rec._tx(reject, "recording a rejected file")
            rejected.append(name)
        else:
            obj = rec.footage.put_file(path)  # step 2c
            sidecar = _sidecar(path, card_dir)
            gps = rec.footage.put_file(sidecar).sha256 if sidecar else None
            klass = (
                "event" if any(p.lower() in EVENT_FOLDERS for p in path.relative_to(card_dir).parts[:-1]) else "normal"
            )
            retain_until = probed.end + MINIMUM_RETENTION
            record = SegmentRecord(
                segment_id=0,
                sha256=obj.sha256,
                vehicle_id=vehicle_id,
                klass=klass,
                start=probed.start,
                end=probed.end,
                size_bytes=obj.size_bytes,
                source_name=name[:255],
                gps_sha256=gps,
                retain_until=retain_until,
                erase_at=erase_at(end=probed.end, klass=klass, policy=policy, retain_until=retain_until),
            )

            def catalogue(conn: Connection, record: SegmentRecord = record) -> bool:  # step 2d
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
                        "vehicle": vehicle_id,
                        "klass": record.klass,
                        "start": record.start.isoformat(),
                        "end": record.end.isoformat(),
                    },
                )
                return True

            if rec._tx(catalogue, "cataloguing a segment"):
                stored += 1
            else:
                duplicates += 1
        done_bytes += size
        if progress is not None:
            progress(count, done_bytes)

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
