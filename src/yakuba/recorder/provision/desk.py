"""The provision desk: register, decide, export, review, package, lend, return and close; each step audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from yakuba.clock import JST
from yakuba.config import Deployment
from yakuba.documents import DocumentSigner
from yakuba.errors import ConfigError, ValidationError
from yakuba.recorder._recorder import Recorder
from yakuba.recorder.errors import ProvisionDecisionError, ProvisionStateError, UnknownRecordError, ViewRefusedError
from yakuba.recorder.provision._holds import hold_window, release_holds
from yakuba.recorder.provision._records import EXPORT_RECORD, package_header, read_export_record, write_export_record
from yakuba.recorder.provision._writing import ExportProgress, cut_clips, write_package
from yakuba.recorder.provision.blur import Blurrer, Detector
from yakuba.recorder.provision.export import ClipResult
from yakuba.recorder.provision.service import (
    CASE_BY_CASE_BASES,
    MIN_REASON_CHARS,
    Decision,
    LegalBasis,
    ProvisionRecord,
    ProvisionStatus,
    ProvisionSummary,
    RequesterKind,
    RequestWindow,
    ReturnKind,
    check_decision,
    check_window,
    return_due,
    summarize,
)
from yakuba.recorder.provision.store import (
    count_provisions_in_year,
    fetch_provision,
    fetch_provisions,
    insert_provision,
    set_window_approval,
    update_provision,
)
from yakuba.recorder.service import VIEWING_ROLES, StaffRole
from yakuba.recorder.store import bump_retention_epoch, fetch_staff, vehicle_exists

__all__ = ["EXPORT_RECORD", "ProvisionDesk", "provisions"]


def provisions(recorder: Recorder, *, since: dt.datetime, until: dt.datetime) -> list[ProvisionSummary]:
    """The register report: every request received in [SINCE, UNTIL), without names, purposes or reasons."""
    with recorder.engine.connect() as conn:
        records = fetch_provisions(conn, since=since, until=until)
    return summarize(records, today=recorder.clock.now().astimezone(JST).date())


class ProvisionDesk:
    """External provision over one Recorder; the city's document signer is needed only to make packages."""

    def __init__(self, *, recorder: Recorder, signer: DocumentSigner | None = None) -> None:
        self.recorder = recorder
        self.signer = signer

    @classmethod
    def from_deployment(cls, dep: Deployment, *, recorder: Recorder | None = None) -> ProvisionDesk:
        """The deployment's recorder and the first city's document-signing key (the city that owns the trucks)."""
        if not dep.cities:
            raise ConfigError("the deployment names no city whose key signs provision packages")
        city = dep.cities[0].code
        return cls(
            recorder=recorder or Recorder.from_deployment(dep),
            signer=DocumentSigner.from_key_dir(dep.key_dir, city),
        )

    # -- helpers ---------------------------------------------------------------------------------------

    def _today(self) -> dt.date:
        return self.recorder.clock.now().astimezone(JST).date()

    def _audit(self, conn: Connection, event: str, *, staff_id: str | None, request_no: str, **fields: Any) -> None:
        self.recorder.audit(
            conn,
            event,
            staff_id=staff_id,
            subject=self.recorder.subject("provision", request_no),
            fields={"request_no": request_no, **fields},
        )

    def record(self, request_no: str) -> ProvisionRecord:
        with self.recorder.engine.connect() as conn:
            return fetch_provision(conn, request_no)

    def provisions(self, *, since: dt.datetime, until: dt.datetime) -> list[ProvisionSummary]:
        return provisions(self.recorder, since=since, until=until)

    def overdue(self) -> list[ProvisionSummary]:
        """Lent copies past their return-or-destroy date: the alert the records officer acts on."""
        start = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        return [s for s in self.provisions(since=start, until=self.recorder.clock.now()) if s.overdue]

    # -- 1. register -----------------------------------------------------------------------------------

    def receive(
        self,
        *,
        staff_id: str,
        form_no: str,
        requester_kind: RequesterKind,
        requester_name: str,
        legal_basis: LegalBasis,
        purpose: str,
        windows: Sequence[RequestWindow],
        deadline: dt.date | None = None,
        keep_audio: bool = False,
        blur: bool = False,
    ) -> str:
        """Register a request and hold its footage at once, in one transaction; returns the request number.

        1. The registering officer may handle footage (drivers and auditors may not).
        2. Each window is exact and names a known vehicle; the purpose is written.
        3. A hold of kind PROVISION is placed over each window in the same transaction (stops the weekly
           sweep erasing the footage while the section chief decides).
        """
        if not windows:
            raise ValidationError("a request names at least one vehicle and window")
        for w in windows:  # step 2
            check_window(w)
        if len(purpose.strip()) < MIN_REASON_CHARS or not form_no.strip() or not requester_name.strip():
            raise ValidationError("a request has a form number, a requester and a written purpose")
        now = self.recorder.clock.now()

        def work(conn: Connection) -> str:
            if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:  # step 1
                raise ViewRefusedError("this role may not register provision requests")
            for w in windows:
                if not vehicle_exists(conn, w.vehicle_id):
                    raise UnknownRecordError(f"no vehicle {w.vehicle_id}")
            prefix = f"P{now.astimezone(JST).year}-"
            request_no = f"{prefix}{count_provisions_in_year(conn, prefix=prefix) + 1:04d}"
            record = ProvisionRecord(
                request_no=request_no,
                form_no=form_no,
                requester_kind=requester_kind,
                requester_name=requester_name,
                legal_basis=legal_basis,
                purpose=purpose,
                deadline=deadline,
                received_at=now,
                received_by=staff_id,
                case_by_case=legal_basis in CASE_BY_CASE_BASES,
                status=ProvisionStatus.RECEIVED,
                windows=tuple(windows),
                keep_audio=keep_audio,
                blur=blur,
            )
            insert_provision(conn, record)
            bump_retention_epoch(conn)  # step 3
            for w in windows:
                hold_window(self.recorder, conn, request_no=request_no, window=w, staff_id=staff_id, now=now)
            self._audit(
                conn,
                "provision.received",
                staff_id=staff_id,
                request_no=request_no,
                requester_kind=requester_kind.value,
                legal_basis=legal_basis.value,
                case_by_case=record.case_by_case,
                windows=len(windows),
            )
            return request_no

        return self.recorder._tx(work, "registering a provision request")

    # -- 2. decide -------------------------------------------------------------------------------------

    def decide(
        self,
        *,
        request_no: str,
        staff_id: str,
        decision: Decision,
        reasons: str,
        approved_windows: Sequence[int] | None = None,
        return_by: dt.date | None = None,
        keep_audio: bool | None = None,
        blur: bool | None = None,
    ) -> ProvisionRecord:
        """The section chief's decision with written reasons; refusals to let anyone else decide are logged."""
        now = self.recorder.clock.now()
        today = self._today()

        def work(conn: Connection) -> None:
            record = fetch_provision(conn, request_no)
            decider = fetch_staff(conn, staff_id)
            chosen = check_decision(
                record=record,
                decider=decider,
                decision=decision,
                reasons=reasons,
                approved_windows=approved_windows,
                return_due=return_by,
                today=today,
            )
            refused = decision is Decision.REFUSED
            set_window_approval(conn, request_no=request_no, approved_ids=chosen)
            update_provision(
                conn,
                request_no,
                decision=decision.value,
                reasons=reasons,
                decided_by=staff_id,
                decided_by_role=decider.role.value,
                decided_at=now,
                status=(ProvisionStatus.REFUSED if refused else ProvisionStatus.APPROVED).value,
                return_due=None if refused else return_due(decided_on=today, requested=return_by),
                keep_audio=record.keep_audio if keep_audio is None else keep_audio,
                blur=record.blur if blur is None else blur,
            )
            self._audit(
                conn,
                "provision.decided",
                staff_id=staff_id,
                request_no=request_no,
                decision=decision.value,
                decided_by_role=decider.role.value,
                windows_approved=len(chosen),
                case_by_case=record.case_by_case,
                reasons_sha256=hashlib.sha256(reasons.encode("utf-8")).hexdigest(),
            )

        try:
            self.recorder._tx(work, "deciding a provision")
        except ProvisionDecisionError:

            def log_refusal(conn: Connection) -> None:
                self._audit(conn, "provision.decision_refused", staff_id=staff_id, request_no=request_no)

            self.recorder._tx(log_refusal, "logging a refused decision")
            raise
        return self.record(request_no)

    # -- 3. export and review --------------------------------------------------------------------------

    def export(
        self,
        *,
        request_no: str,
        staff_id: str,
        dest_dir: Path,
        detector: Detector | None = None,
        progress: ExportProgress | None = None,
    ) -> list[ClipResult]:
        """Cut each approved window into its own clip in DEST_DIR, and write the export record beside them.

        1. Only an approved request is exported (a refused one exports nothing), by a footage role.
        2. Each approved window is cut frame-accurately across the vehicle's segment files.
        3. When the decision asked for blurring, flagged frames are listed for review before release.
        """
        record = self.record(request_no)
        with self.recorder.engine.connect() as conn:
            role = fetch_staff(conn, staff_id).role
        if role not in VIEWING_ROLES:  # step 1
            raise ViewRefusedError("this role may not export footage")
        if record.status is not ProvisionStatus.APPROVED:
            raise ProvisionStateError(f"request {request_no} is {record.status.value}; only approved ones export")
        dest_dir.mkdir(parents=True, exist_ok=True)
        blurrer = Blurrer(detector=detector or Detector.from_opencv()) if record.blur else None
        clips = cut_clips(self.recorder, record, dest_dir=dest_dir, blurrer=blurrer, progress=progress)  # steps 2, 3
        flagged = sum(len(c.flagged) for c in clips)
        write_export_record(dest_dir, request_no=request_no, clips=clips)

        def work(conn: Connection) -> None:
            update_provision(
                conn,
                request_no,
                status=ProvisionStatus.EXPORTED.value,
                export_dir=str(dest_dir),
                flagged_frames=flagged,
            )
            self._audit(
                conn,
                "provision.exported",
                staff_id=staff_id,
                request_no=request_no,
                clips=len(clips),
                frames=sum(c.frames for c in clips),
                flagged_frames=flagged,
                blurred=blurrer is not None,
                audio=any(c.audio for c in clips),
            )

        self.recorder._tx(work, "recording an export")
        return clips

    def review(self, *, request_no: str, staff_id: str, checked_frames: int) -> None:
        """A person confirms they looked at every flagged frame of a blurred export before it is released.

        CHECKED_FRAMES must equal the number flagged: a reviewer who skimmed part cannot sign off the whole.
        """
        now = self.recorder.clock.now()

        def work(conn: Connection) -> None:
            record = fetch_provision(conn, request_no)
            if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:
                raise ViewRefusedError("this role may not review footage")
            if record.status is not ProvisionStatus.EXPORTED or not record.blur:
                raise ProvisionStateError("only a blurred export awaiting release is reviewed")
            if checked_frames != (record.flagged_frames or 0):
                raise ValidationError(f"{record.flagged_frames} frames are flagged; all must be checked")
            update_provision(conn, request_no, reviewed_by=staff_id, reviewed_at=now)
            self._audit(conn, "provision.reviewed", staff_id=staff_id, request_no=request_no, frames=checked_frames)

        self.recorder._tx(work, "recording a review")

    # -- 4. package and lend ---------------------------------------------------------------------------

    def package(self, *, request_no: str, staff_id: str, dest: Path, as_zip: bool = False) -> Path:
        """Make the signed package from the export and record the copy as lent until its return date."""
        if self.signer is None:
            raise ConfigError("making a package needs the city's document-signing key")
        record = self.record(request_no)
        if record.status is not ProvisionStatus.EXPORTED or record.export_dir is None:
            raise ProvisionStateError(f"request {request_no} is {record.status.value}, not exported")
        if record.blur and record.reviewed_by is None:
            raise ProvisionStateError("a blurred export is released only after a person reviewed the flagged frames")
        exported = read_export_record(Path(record.export_dir))
        now = self.recorder.clock.now()
        header = package_header(record, now=now)
        result, manifest = write_package(
            exported, export_dir=Path(record.export_dir), header=header, dest=dest, as_zip=as_zip, signer=self.signer
        )

        def work(conn: Connection) -> None:
            update_provision(conn, request_no, status=ProvisionStatus.LENT.value, lent_at=now)
            self._audit(
                conn,
                "provision.lent",
                staff_id=staff_id,
                request_no=request_no,
                clips=len(manifest["clips"]),
                return_due=header["return_due"],
            )

        self.recorder._tx(work, "recording a package")
        return result

    # -- 5. return and close ---------------------------------------------------------------------------

    def record_return(self, *, request_no: str, staff_id: str, kind: ReturnKind, reference: str) -> None:
        """The copy came back, or the recipient certified its destruction (REFERENCE: that certificate's number)."""
        now = self.recorder.clock.now()

        def work(conn: Connection) -> None:
            record = fetch_provision(conn, request_no)
            if fetch_staff(conn, staff_id).role not in VIEWING_ROLES:
                raise ViewRefusedError("this role may not record a return")
            if record.status is not ProvisionStatus.LENT:
                raise ProvisionStateError(f"request {request_no} is {record.status.value}, not lent")
            if not reference.strip():
                raise ValidationError("a return or destruction names its receipt or certificate")
            update_provision(
                conn,
                request_no,
                status=ProvisionStatus.RETURNED.value,
                returned_or_destroyed_at=now,
                return_kind=kind.value,
                return_ref=reference,
            )
            overdue = record.return_due is not None and now.astimezone(JST).date() > record.return_due
            self._audit(
                conn, "provision.returned", staff_id=staff_id, request_no=request_no, kind=kind.value, late=overdue
            )

        self.recorder._tx(work, "recording a return")

    def close(self, *, request_no: str, staff_id: str, reason: str) -> int:
        """Close a request and release its holds: an explicit act of the section chief, audited; returns the
        number of holds released. A lent copy still out must come back (or be certified destroyed) first."""
        now = self.recorder.clock.now()

        def work(conn: Connection) -> int:
            record = fetch_provision(conn, request_no)
            if fetch_staff(conn, staff_id).role is not StaffRole.SECTION_CHIEF:
                raise ProvisionDecisionError("only the section chief closes a provision and releases its holds")
            if len(reason.strip()) < MIN_REASON_CHARS:
                raise ValidationError("closing a request says why")
            if record.status in (ProvisionStatus.LENT, ProvisionStatus.CLOSED):
                raise ProvisionStateError(f"request {request_no} is {record.status.value} and cannot be closed")
            bump_retention_epoch(conn)
            released = release_holds(self.recorder, conn, record, staff_id=staff_id, reason=reason, now=now)
            update_provision(conn, request_no, status=ProvisionStatus.CLOSED.value, closed_at=now, closed_by=staff_id)
            self._audit(conn, "provision.closed", staff_id=staff_id, request_no=request_no, holds_released=released)
            return released

        return self.recorder._tx(work, "closing a provision")
