"""Drive-recorder footage of the city's garbage trucks: fleet, media ledger, ingest, retention, holds, viewing."""

from yakuba.recorder._ingest import DISK_RESERVE_BYTES, IngestReport, ingest_card
from yakuba.recorder._recorder import DATABASE_URL, LOG_NAME, Recorder, SweepReport
from yakuba.recorder._scheduled import init_recorder, run_sweep
from yakuba.recorder.errors import (
    CardPlaceError,
    CorruptSegmentError,
    DiskFullError,
    HoldReleaseError,
    RetentionLockedError,
    SweepRefusedError,
    UnknownRecordError,
    ViewGrantError,
    ViewRefusedError,
)

__all__ = [
    "DATABASE_URL",
    "DISK_RESERVE_BYTES",
    "LOG_NAME",
    "CardPlaceError",
    "CorruptSegmentError",
    "DiskFullError",
    "HoldReleaseError",
    "IngestReport",
    "Recorder",
    "RetentionLockedError",
    "SweepRefusedError",
    "SweepReport",
    "UnknownRecordError",
    "ViewGrantError",
    "ViewRefusedError",
    "ingest_card",
    "init_recorder",
    "run_sweep",
]
