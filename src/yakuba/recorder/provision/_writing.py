"""Writing a request's files: each approved window cut into its own clip, then the signed package made of them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from yakuba.documents import DocumentSigner
from yakuba.recorder._recorder import Recorder
from yakuba.recorder.provision.blur import Blurrer
from yakuba.recorder.provision.export import ClipResult, ClipSource, export_window
from yakuba.recorder.provision.package import build_package, zip_package
from yakuba.recorder.provision.service import ProvisionRecord
from yakuba.recorder.provision.store import fetch_segments_overlapping

__all__ = ["ExportProgress", "cut_clips", "write_package"]

ExportProgress = Callable[[str, int], None]
"""Called with (clip file name, frames written so far)."""


def cut_clips(
    recorder: Recorder,
    record: ProvisionRecord,
    *,
    dest_dir: Path,
    blurrer: Blurrer | None,
    progress: ExportProgress | None,
) -> list[ClipResult]:
    """Cut each approved window of RECORD frame-accurately across the vehicle's segment files into DEST_DIR."""
    clips: list[ClipResult] = []
    for n, w in enumerate((w for w in record.windows if w.approved), start=1):  # step 2
        with recorder.engine.connect() as conn:
            segs = fetch_segments_overlapping(conn, vehicle_id=w.vehicle_id, start=w.start, end=w.end)
        sources = [ClipSource(path=recorder.footage.path_of(s.sha256), sha256=s.sha256, start=s.start) for s in segs]
        name = f"{record.request_no}_{n:02d}_{w.vehicle_id}.mp4"
        clips.append(
            export_window(
                sources=sources,
                start=w.start,
                end=w.end,
                dest=dest_dir / name,
                keep_audio=record.keep_audio,
                blurrer=blurrer,  # step 3
                progress=None if progress is None else functools.partial(progress, name),
            )
        )
    return clips


def write_package(
    exported: Mapping[str, Any],
    *,
    export_dir: Path,
    header: Mapping[str, Any],
    dest: Path,
    as_zip: bool,
    signer: DocumentSigner,
) -> tuple[Path, dict[str, Any]]:
    """The signed package of the exported clips at DEST (a folder, or one ZIP), and its manifest."""
    clips = [(export_dir / c["name"], c) for c in exported["clips"]]
    folder = dest.with_suffix("") if as_zip else dest
    manifest = build_package(dest=folder, header=header, clips=clips, signer=signer)
    result = zip_package(folder, dest) if as_zip else folder
    return result, manifest
