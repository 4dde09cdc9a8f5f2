"""The scrub: after ingest, decode every frame of every stored segment once, and flag (never erase) failures.

Ingest checks a segment's structure and decodes its first keyframe and last GOP, at disk speed; a picture
damaged in the middle of a file only shows when every frame is decoded. The scrub does that in the
background (`yakuba recorder scrub`; `run_scrub` is the job for `yakuba up`'s schedule), oldest first:

- a segment whose bytes still hash to its address and whose every frame decodes is marked "full", with
  the time;
- one that does not is marked "failed" with the reason, a copy is kept in `aside/scrub/`, the failure goes
  to the audit log and shows in `yakuba recorder alerts`. Its retention does not change: the sweep erases
  it on the same day it would have erased a good one, never earlier, and holds keep it as they keep any.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from yakuba.clock import Clock
from yakuba.config import Deployment
from yakuba.recorder._recorder import Recorder
from yakuba.recorder._verify import decode_segment
from yakuba.recorder.errors import CorruptSegmentError
from yakuba.recorder.store import (
    COPY_CHUNK_BYTES,
    ScrubTarget,
    VerifyLevel,
    count_by_level,
    fetch_failed_segments,
    fetch_scrub_targets,
    mark_segment_verified,
)

__all__ = ["SCRUB_BATCH", "ScrubAlert", "ScrubProgress", "ScrubReport", "run_scrub", "scrub", "scrub_alerts"]

SCRUB_BATCH = 200
"""Segments one scheduled scrub decodes (about 10 minutes of one core for 1-minute 720p segments); the rest
wait for the next run, so the scrub never holds a core for long."""

ScrubProgress = Callable[[int, int, int], None]
"""Called after each segment with (segments done, segments in this run, frames decoded so far)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrubReport:
    examined: int
    verified: int
    failed: int
    erased_meanwhile: int
    frames: int
    cpu_seconds: float
    wall_seconds: float
    pending: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrubAlert:
    segment_id: int
    vehicle_id: str
    start: dt.datetime
    problem: str
    detail: str


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _decode(rec: Recorder, target: ScrubTarget) -> tuple[VerifyLevel, int, str | None]:
    """(level, frames decoded, failure reason) for one stored segment: its bytes still hash to its address
    (a fixity check, cheap next to the decode), and every frame decodes."""
    path = rec.footage.path_of(target.sha256)
    if not path.exists():
        return VerifyLevel.FAILED, 0, "the stored file is missing"
    try:
        if _sha256_of(path) != target.sha256:
            raise CorruptSegmentError("the stored file no longer matches its SHA-256 (changed on disk)")
        checked = decode_segment(path)
    except CorruptSegmentError as exc:
        rec.footage.keep_aside(path, batch="scrub", name=f"{target.segment_id}-{Path(target.source_name).name}")
        return VerifyLevel.FAILED, 0, exc.text_en
    return VerifyLevel.FULL, checked.decoded, None


def scrub(rec: Recorder, *, limit: int | None = None, progress: ScrubProgress | None = None) -> ScrubReport:
    """Decode every frame of the segments not yet fully verified (at most LIMIT), oldest first.

    1. Read the segments still at level "structure".
    2. Per segment: decode the stored file (`decode_segment`: every frame, no concealed error); a failure
       keeps a copy aside.
    3. Record the level, time and reason in one transaction with, for a failure, its audit entry; a segment
       the sweep erased meanwhile is skipped (its row is gone, nothing is recorded).
    4. Audit a summary of the run when it examined anything.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    with rec.engine.connect() as conn:  # step 1
        targets = fetch_scrub_targets(conn, limit=limit)
    verified = failed = gone = frames = 0
    for done, target in enumerate(targets, start=1):
        level, decoded, reason = _decode(rec, target)  # step 2
        frames += decoded

        def record(
            conn: Connection, target: ScrubTarget = target, level: VerifyLevel = level, reason: str | None = reason
        ) -> bool:  # step 3
            if not mark_segment_verified(conn, target.segment_id, level=level, at=rec.clock.now(), error=reason):
                return False
            if level is VerifyLevel.FAILED:
                rec.audit(
                    conn,
                    "footage.scrub_failed",
                    staff_id=None,
                    subject=rec.subject("segment", target.sha256),
                    fields={"segment_id": target.segment_id, "sha256": target.sha256, "reason": (reason or "")[:200]},
                )
            return True

        if not rec._tx(record, "recording a scrub result"):
            gone += 1
        elif level is VerifyLevel.FULL:
            verified += 1
        else:
            failed += 1
        if progress is not None:
            progress(done, len(targets), frames)
    with rec.engine.connect() as conn:
        pending = count_by_level(conn).get(VerifyLevel.STRUCTURE.value, 0)
    report = ScrubReport(
        examined=len(targets),
        verified=verified,
        failed=failed,
        erased_meanwhile=gone,
        frames=frames,
        cpu_seconds=time.process_time() - cpu,
        wall_seconds=time.perf_counter() - wall,
        pending=pending,
    )
    if targets:  # step 4
        rec._tx(
            lambda conn: rec.audit(
                conn,
                "scrub.finished",
                staff_id=None,
                subject=None,
                fields={"examined": len(targets), "verified": verified, "failed": failed, "pending": pending},
            ),
            "closing a scrub",
        )
    return report


def scrub_alerts(rec: Recorder) -> list[ScrubAlert]:
    """Segments the scrub found damaged: flagged for the records officer, never erased early."""
    with rec.engine.connect() as conn:
        failed = fetch_failed_segments(conn)
    return [
        ScrubAlert(
            segment_id=s.segment_id,
            vehicle_id=s.vehicle_id,
            start=s.start,
            problem="scrub_failed",
            detail=s.verify_error or "",
        )
        for s in failed
    ]


def run_scrub(dep: Deployment, *, clock: Clock | None = None, limit: int | None = SCRUB_BATCH) -> ScrubReport:
    """One scrub of the deployment's recorder; the function `yakuba up` schedules after each sweep."""
    return scrub(Recorder.from_deployment(dep, clock=clock), limit=limit)
