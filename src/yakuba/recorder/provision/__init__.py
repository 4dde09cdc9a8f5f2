"""External provision of footage (issue #9): register, decision, exact export, blurring, signed package, return."""

from yakuba.recorder.provision.blur import Blurrer, Detector, Region, blur_regions
from yakuba.recorder.provision.desk import EXPORT_RECORD, ProvisionDesk, provisions
from yakuba.recorder.provision.export import ClipResult, ClipSource, FlaggedFrame, decode_times, export_window
from yakuba.recorder.provision.package import build_package, verify_package, zip_package
from yakuba.recorder.provision.service import (
    LENDING_PERIOD,
    MAX_LENDING_PERIOD,
    MAX_WINDOW,
    Decision,
    LegalBasis,
    ProvisionRecord,
    ProvisionStatus,
    ProvisionSummary,
    RequesterKind,
    RequestWindow,
    ReturnKind,
)

__all__ = [
    "EXPORT_RECORD",
    "LENDING_PERIOD",
    "MAX_LENDING_PERIOD",
    "MAX_WINDOW",
    "Blurrer",
    "ClipResult",
    "ClipSource",
    "Decision",
    "Detector",
    "FlaggedFrame",
    "LegalBasis",
    "ProvisionDesk",
    "ProvisionRecord",
    "ProvisionStatus",
    "ProvisionSummary",
    "Region",
    "RequestWindow",
    "RequesterKind",
    "ReturnKind",
    "blur_regions",
    "build_package",
    "decode_times",
    "export_window",
    "provisions",
    "verify_package",
    "zip_package",
]
