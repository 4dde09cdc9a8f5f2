"""Drive-recorder footage of garbage trucks: fleet, media ledger, ingest, retention, holds, viewing, provision."""

from yakuba.recorder._ingest import DISK_RESERVE_BYTES, IngestReport, ingest_card
from yakuba.recorder._recorder import DATABASE_URL, LOG_NAME, Recorder, SweepReport
from yakuba.recorder._scheduled import init_recorder, run_sweep
from yakuba.recorder._scrub import ScrubAlert, ScrubReport, run_scrub, scrub, scrub_alerts
from yakuba.recorder.errors import (
    CardPlaceError,
    CorruptSegmentError,
    DiskFullError,
    ExportError,
    HoldReleaseError,
    PackageInvalidError,
    ProvisionDecisionError,
    ProvisionStateError,
    RetentionLockedError,
    SweepRefusedError,
    UnknownRecordError,
    ViewGrantError,
    ViewRefusedError,
)
from yakuba.recorder.provision import ProvisionDesk, ProvisionSummary, provisions

__all__ = [
    "DATABASE_URL",
    "DISK_RESERVE_BYTES",
    "LOG_NAME",
    "CardPlaceError",
    "CorruptSegmentError",
    "DiskFullError",
    "ExportError",
    "HoldReleaseError",
    "IngestReport",
    "PackageInvalidError",
    "ProvisionDecisionError",
    "ProvisionDesk",
    "ProvisionStateError",
    "ProvisionSummary",
    "Recorder",
    "RetentionLockedError",
    "ScrubAlert",
    "ScrubReport",
    "SweepRefusedError",
    "SweepReport",
    "UnknownRecordError",
    "ViewGrantError",
    "ViewRefusedError",
    "ingest_card",
    "init_recorder",
    "provisions",
    "run_scrub",
    "run_sweep",
    "scrub",
    "scrub_alerts",
]
