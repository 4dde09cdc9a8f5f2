"""What the desk writes down beside the files: the export record beside the clips and the package's header."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from yakuba.recorder.provision.export import ClipResult
from yakuba.recorder.provision.service import ProvisionRecord

__all__ = ["EXPORT_RECORD", "package_header", "read_export_record", "write_export_record"]

EXPORT_RECORD = "export.json"
"""Written beside the clips: requested versus actual windows, source hashes and the frames flagged for review."""


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat()


def write_export_record(dest_dir: Path, *, request_no: str, clips: list[ClipResult]) -> None:
    """Write the export record for CLIPS into DEST_DIR, beside them."""
    (dest_dir / EXPORT_RECORD).write_text(
        json.dumps({"request_no": request_no, "clips": [_clip_meta(c) for c in clips]}, indent=2),
        encoding="utf-8",
    )


def read_export_record(export_dir: Path) -> dict[str, Any]:
    """The export record written beside the clips in EXPORT_DIR."""
    exported: dict[str, Any] = json.loads((export_dir / EXPORT_RECORD).read_text(encoding="utf-8"))
    return exported


def package_header(record: ProvisionRecord, *, now: dt.datetime) -> dict[str, Any]:
    """The request, its decision and its return date, as the package's manifest states them."""
    return {
        "request_no": record.request_no,
        "form_no": record.form_no,
        "requester_kind": record.requester_kind.value,
        "legal_basis": record.legal_basis.value,
        "created_at": _iso(now),
        "return_due": None if record.return_due is None else record.return_due.isoformat(),
        "decision": {
            "decision": None if record.decision is None else record.decision.value,
            "decided_by_role": record.decided_by_role,
            "decided_at": None if record.decided_at is None else _iso(record.decided_at),
        },
    }


def _clip_meta(clip: ClipResult) -> dict[str, Any]:
    return {
        "name": clip.path.name,
        "requested_start": _iso(clip.requested_start),
        "requested_end": _iso(clip.requested_end),
        "actual_first": _iso(clip.actual_first),
        "actual_last": _iso(clip.actual_last),
        "frames": clip.frames,
        # How much of the clip is the recorder's own picture data and how much was re-encoded (the boundary
        # GOPs of a smart cut; every frame when blurred): what a court may ask of evidence.
        "frames_copied_as_recorded": clip.copied,
        "frames_re_encoded": clip.frames - clip.copied,
        "fps": str(clip.fps),
        "audio": clip.audio,
        "blurred": clip.blurred,
        "source_segments": list(clip.sources),
        "flagged_frames": [
            {
                "index": f.index,
                "time": _iso(f.time),
                "regions": [{"x": r.x, "y": r.y, "w": r.w, "h": r.h, "kind": r.kind} for r in f.regions],
            }
            for f in clip.flagged
        ],
    }
