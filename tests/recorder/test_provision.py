"""External provision (#9): register with holds, section-chief decision, exact export, package, return, close."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.recorder.conftest import CARD_START, audit_entries
from typer.testing import CliRunner

from yakuba.cli._recorder import app
from yakuba.clock import FixedClock
from yakuba.documents import DocumentSigner
from yakuba.errors import ValidationError
from yakuba.recorder import (
    PackageInvalidError,
    ProvisionDecisionError,
    ProvisionStateError,
    Recorder,
    ingest_card,
    provisions,
)
from yakuba.recorder.media import CardSpec, make_card
from yakuba.recorder.provision import (
    LENDING_PERIOD,
    Decision,
    Detector,
    LegalBasis,
    ProvisionDesk,
    ProvisionStatus,
    Region,
    RequesterKind,
    RequestWindow,
    ReturnKind,
    decode_times,
    verify_package,
)
from yakuba.recorder.store import fetch_active_holds

FPS = 5
FRAME = dt.timedelta(seconds=1 / FPS)
REQUESTER = "中央警察署 刑事課 山田太郎"
PURPOSE = "交通事故（3月1日）の捜査のため"


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: ec.EllipticCurvePrivateKey, ca: bool
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


@pytest.fixture(scope="session")
def pki() -> tuple[DocumentSigner, x509.Certificate, x509.Certificate]:
    """A throwaway LGPKI-like root and the city's document-signing certificate; plus an unrelated root."""
    root_key, leaf_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("test LGPKI root", root_key, "test LGPKI root", root_key, ca=True)
    leaf = _cert("city 999999 document signing", leaf_key, "test LGPKI root", root_key, ca=False)
    other = _cert("someone else", other_key, "someone else", other_key, ca=True)
    return DocumentSigner(city_code="999999", certificate=leaf, private_key=leaf_key, chain=(root,)), root, other


@pytest.fixture(scope="session")
def card_t02(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("card_t02")
    make_card(path, CardSpec(vehicle_id="T02", start=CARD_START, segments=2, segment_seconds=2, seed=5, corrupt=0))
    return path


@pytest.fixture
def desk(
    recorder: Recorder, card_dir: Path, card_t02: Path, pki: tuple[DocumentSigner, x509.Certificate, x509.Certificate]
) -> ProvisionDesk:
    ingest_card(recorder, card_dir, vehicle_id="T01", staff_id="rec01")
    ingest_card(recorder, card_t02, vehicle_id="T02", staff_id="rec01")
    return ProvisionDesk(recorder=recorder, signer=pki[0])


def _at(seconds: float) -> dt.datetime:
    return CARD_START + dt.timedelta(seconds=seconds)


def _receive(desk: ProvisionDesk, *windows: RequestWindow, basis: LegalBasis = LegalBasis.CCP_197_2) -> str:
    return desk.receive(
        staff_id="rec01",
        form_no="中署刑第123号",
        requester_kind=RequesterKind.POLICE if basis is LegalBasis.CCP_197_2 else RequesterKind.BAR_ASSOCIATION,
        requester_name=REQUESTER,
        legal_basis=basis,
        purpose=PURPOSE,
        windows=windows or (RequestWindow(vehicle_id="T01", start=_at(1.1), end=_at(5.3)),),
        deadline=dt.date(2025, 3, 14),
    )


def _approve(desk: ProvisionDesk, request_no: str, **kwargs: object) -> None:
    desk.decide(
        request_no=request_no,
        staff_id="chief01",
        decision=Decision.APPROVED,
        reasons="刑事訴訟法197条2項に基づく照会であり、必要な範囲に限り提供する。",
        **kwargs,  # type: ignore[arg-type]
    )


def test_receipt_holds_the_footage_and_close_releases_it(desk: ProvisionDesk, tmp_path: Path) -> None:
    request_no = _receive(desk)
    assert request_no == "P2025-0001"
    with desk.recorder.engine.connect() as conn:
        holds = fetch_active_holds(conn, now=desk.recorder.clock.now())
    assert [(h.kind.value, h.vehicle_id, h.window_start, h.window_end) for h in holds] == [
        ("provision", "T01", _at(1.1), _at(5.3))
    ]
    with pytest.raises(ProvisionDecisionError):
        desk.close(request_no=request_no, staff_id="sup01", reason="request withdrawn")
    assert desk.close(request_no=request_no, staff_id="chief01", reason="request withdrawn") == 1
    with desk.recorder.engine.connect() as conn:
        assert fetch_active_holds(conn, now=desk.recorder.clock.now()) == []
    events = [e.event_type for e in audit_entries(desk.recorder, tmp_path / "keys")]
    assert events[-4:] == ["hold.placed", "provision.received", "hold.released", "provision.closed"]


def test_only_the_section_chief_decides_with_reasons(desk: ProvisionDesk, tmp_path: Path) -> None:
    request_no = _receive(desk)
    for staff in ("sup01", "rec01", "drv01"):
        with pytest.raises(ProvisionDecisionError):
            _approve_as(desk, request_no, staff, "十分な理由がある")
    with pytest.raises(ProvisionDecisionError):
        _approve_as(desk, request_no, "chief01", " ")
    assert desk.record(request_no).status is ProvisionStatus.RECEIVED
    record = desk.decide(request_no=request_no, staff_id="chief01", decision=Decision.APPROVED, reasons="必要な範囲")
    assert (record.decision, record.decided_by, record.decided_by_role) == (
        Decision.APPROVED,
        "chief01",
        "section_chief",
    )
    assert record.decided_at == desk.recorder.clock.now()
    assert record.return_due == dt.date(2025, 3, 1) + LENDING_PERIOD
    with pytest.raises(ProvisionStateError):  # a second, contradictory decision
        desk.decide(request_no=request_no, staff_id="chief01", decision=Decision.REFUSED, reasons="やはり不可")
    entries = audit_entries(desk.recorder, tmp_path / "keys")
    refused = [e.actor.staff_id for e in entries if e.event_type == "provision.decision_refused"]
    assert refused == ["sup01", "rec01", "drv01", "chief01"]
    decided = [e for e in entries if e.event_type == "provision.decided"]
    assert [(e.actor.staff_id, e.fields["decision"], e.fields["decided_by_role"]) for e in decided] == [
        ("chief01", "approved", "section_chief")
    ]


def _approve_as(desk: ProvisionDesk, request_no: str, staff: str, reasons: str) -> None:
    desk.decide(request_no=request_no, staff_id=staff, decision=Decision.APPROVED, reasons=reasons)


def test_a_refused_request_exports_nothing(desk: ProvisionDesk, tmp_path: Path) -> None:
    request_no = _receive(desk, basis=LegalBasis.ATTORNEY_ACT_23_2)
    assert desk.record(request_no).case_by_case
    desk.decide(request_no=request_no, staff_id="chief01", decision=Decision.REFUSED, reasons="照会の必要性が不明")
    out = tmp_path / "export"
    with pytest.raises(ProvisionStateError):
        desk.export(request_no=request_no, staff_id="rec01", dest_dir=out)
    assert not out.exists() or not any(out.iterdir())
    (summary,) = provisions(desk.recorder, since=CARD_START, until=_at(3600))
    assert (summary.decision, summary.case_by_case, summary.return_due, summary.status) == (
        "refused",
        True,
        None,
        "refused",
    )


def test_the_export_is_exactly_the_window_across_segment_files(desk: ProvisionDesk, tmp_path: Path) -> None:
    request_no = _receive(desk)
    _approve(desk, request_no)
    (clip,) = desk.export(request_no=request_no, staff_id="rec01", dest_dir=tmp_path / "export")
    times = decode_times(clip.path)
    assert abs(times[0] - _at(1.1)) <= FRAME
    assert abs(times[-1] - (_at(5.3) - FRAME)) <= FRAME
    assert all(_at(1.1) <= t < _at(5.3) for t in times)  # nothing outside the window
    assert len(times) == clip.frames == 21  # frames at 1.2, 1.4, ... 5.2 s: every one in the window, once
    assert (clip.actual_first, clip.actual_last) == (times[0], times[-1])
    assert len(clip.sources) == 3  # the window spans three two-second files
    assert not clip.audio


def test_partial_approval_exports_only_the_approved_vehicle(desk: ProvisionDesk, tmp_path: Path) -> None:
    request_no = _receive(
        desk,
        RequestWindow(vehicle_id="T01", start=_at(0), end=_at(2)),
        RequestWindow(vehicle_id="T02", start=_at(1), end=_at(3)),
    )
    windows = desk.record(request_no).windows
    with pytest.raises(ValidationError):  # "partly" must be some, not all
        desk.decide(
            request_no=request_no,
            staff_id="chief01",
            decision=Decision.PARTLY_APPROVED,
            reasons="一部のみ必要",
            approved_windows=[w.window_id for w in windows],
        )
    desk.decide(
        request_no=request_no,
        staff_id="chief01",
        decision=Decision.PARTLY_APPROVED,
        reasons="事故車両の映像のみ必要",
        approved_windows=[windows[1].window_id],
    )
    clips = desk.export(request_no=request_no, staff_id="rec01", dest_dir=tmp_path / "export")
    assert [c.path.name for c in clips] == [f"{request_no}_01_T02.mp4"]
    times = decode_times(clips[0].path)
    assert abs(times[0] - _at(1)) <= FRAME
    assert times[-1] < _at(3)


def _lent(desk: ProvisionDesk, tmp_path: Path, *, as_zip: bool = False) -> tuple[str, Path]:
    request_no = _receive(desk)
    _approve(desk, request_no, return_by=dt.date(2025, 3, 31))
    desk.export(request_no=request_no, staff_id="rec01", dest_dir=tmp_path / "export")
    dest = tmp_path / ("package.zip" if as_zip else "package")
    return request_no, desk.package(request_no=request_no, staff_id="rec01", dest=dest, as_zip=as_zip)


def test_the_package_verifies_and_a_changed_byte_does_not(
    desk: ProvisionDesk, tmp_path: Path, pki: tuple[DocumentSigner, x509.Certificate, x509.Certificate]
) -> None:
    _signer, root, other = pki
    request_no, package = _lent(desk, tmp_path)
    manifest = verify_package(package, root=root)
    (clip,) = manifest["clips"]
    assert manifest["request_no"] == request_no
    assert manifest["decision"] == {
        "decision": "approved",
        "decided_by_role": "section_chief",
        "decided_at": desk.recorder.clock.now().isoformat(),
    }
    assert (clip["requested_start"], clip["requested_end"]) == (_at(1.1).isoformat(), _at(5.3).isoformat())
    assert len(clip["source_segments"]) == 3
    # Unblurred, a smart cut: the whole GOPs inside the window are the recorder's own data, the edges re-encoded.
    assert clip["frames_copied_as_recorded"] > 0
    assert clip["frames_re_encoded"] > 0
    assert clip["frames_copied_as_recorded"] + clip["frames_re_encoded"] == clip["frames"]
    assert (package / "receipt.pdf").read_bytes().startswith(b"%PDF")
    assert REQUESTER not in (package / "manifest.json").read_text(encoding="utf-8")
    with pytest.raises(PackageInvalidError):
        verify_package(package, root=other)
    for name in ("clips/" + Path(clip["file"]).name, "manifest.json", "receipt.pdf"):
        tampered = tmp_path / f"tampered-{name.replace('/', '_')}"
        shutil.copytree(package, tampered)
        data = bytearray((tampered / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (tampered / name).write_bytes(bytes(data))
        with pytest.raises(PackageInvalidError):
            verify_package(tampered, root=root)
    extra = tmp_path / "extra"
    shutil.copytree(package, extra)
    (extra / "clips" / "more.mp4").write_bytes(b"not requested")
    with pytest.raises(PackageInvalidError):
        verify_package(extra, root=root)


def test_a_zip_package_verifies_and_a_changed_byte_does_not(
    desk: ProvisionDesk, tmp_path: Path, pki: tuple[DocumentSigner, x509.Certificate, x509.Certificate]
) -> None:
    _request_no, package = _lent(desk, tmp_path, as_zip=True)
    assert package.suffix == ".zip"
    verify_package(package, root=pki[1])
    data = bytearray(package.read_bytes())
    data[len(data) // 3] ^= 0x01
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(data))
    with pytest.raises(PackageInvalidError):
        verify_package(broken, root=pki[1])


def test_overdue_then_destroyed_then_closed(desk: ProvisionDesk, tmp_path: Path, clock: FixedClock) -> None:
    request_no, _package = _lent(desk, tmp_path)
    assert desk.overdue() == []
    with pytest.raises(ProvisionStateError):  # the copy is still out
        desk.close(request_no=request_no, staff_id="chief01", reason="提供を終了する")
    clock.advance(dt.timedelta(days=31))
    (late,) = desk.overdue()
    assert (late.request_no, late.status, late.return_due) == (request_no, "lent", dt.date(2025, 3, 31))
    desk.record_return(request_no=request_no, staff_id="rec01", kind=ReturnKind.DESTROYED, reference="廃棄証明 45号")
    assert desk.overdue() == []
    assert desk.close(request_no=request_no, staff_id="chief01", reason="廃棄証明を受領") == 1
    (summary,) = desk.provisions(since=CARD_START, until=clock.now())
    assert (summary.status, summary.return_kind, summary.returned_or_destroyed_at) == (
        "closed",
        "destroyed",
        CARD_START + dt.timedelta(minutes=30, days=31),
    )
    assert REQUESTER not in repr(summary)
    assert PURPOSE not in repr(summary)
    entries = audit_entries(desk.recorder, tmp_path / "keys")
    text = repr([(e.subject, e.fields) for e in entries])
    assert REQUESTER not in text
    assert PURPOSE not in text
    assert "山田" not in text
    returned = [e for e in entries if e.event_type == "provision.returned"]
    assert [(e.fields["kind"], e.fields["late"]) for e in returned] == [("destroyed", True)]


class _OneRegion(Detector):
    """Flags the same box on every frame: the review step does not depend on what a cascade finds."""

    def __init__(self) -> None:
        super().__init__(cascades=())

    def detect(self, image: object) -> list[Region]:
        return [Region(x=10, y=10, w=60, h=40, kind="face")]


def test_a_blurred_export_is_released_only_after_review(desk: ProvisionDesk, tmp_path: Path) -> None:
    request_no = _receive(desk)
    _approve(desk, request_no, blur=True)
    (clip,) = desk.export(request_no=request_no, staff_id="rec01", dest_dir=tmp_path / "export", detector=_OneRegion())
    assert clip.blurred
    assert len(clip.flagged) == clip.frames
    with pytest.raises(ProvisionStateError):
        desk.package(request_no=request_no, staff_id="rec01", dest=tmp_path / "package")
    with pytest.raises(ValidationError):  # looked at only some of the flagged frames
        desk.review(request_no=request_no, staff_id="sup01", checked_frames=clip.frames - 1)
    desk.review(request_no=request_no, staff_id="sup01", checked_frames=clip.frames)
    package = desk.package(request_no=request_no, staff_id="rec01", dest=tmp_path / "package")
    assert (package / "manifest.json").is_file()


def test_the_verify_package_command(
    desk: ProvisionDesk, tmp_path: Path, pki: tuple[DocumentSigner, x509.Certificate, x509.Certificate]
) -> None:
    _request_no, package = _lent(desk, tmp_path)
    root = tmp_path / "lgpki-root.crt"
    root.write_bytes(pki[1].public_bytes(serialization.Encoding.PEM))
    runner = CliRunner()
    good = runner.invoke(app, ["verify-package", str(package), "--root", str(root)])
    assert good.exit_code == 0, good.output
    assert "OK: P2025-0001" in good.output
    clip = next((package / "clips").iterdir())
    data = bytearray(clip.read_bytes())
    data[-10] ^= 0xFF
    clip.write_bytes(bytes(data))
    bad = runner.invoke(app, ["verify-package", str(package), "--root", str(root)])
    assert bad.exit_code == 1
    assert "INVALID" in bad.output


def test_the_council_check_reads_the_real_register(desk: ProvisionDesk) -> None:
    """The council's condition (request, legal basis, section-chief decision, return date) judged on this register."""
    from yakuba.council.checks import Verdict, check_provisions, judge, provision_register

    request_no = _receive(desk)
    since, until = CARD_START - dt.timedelta(days=1), CARD_START + dt.timedelta(days=30)
    pending = judge("p", lambda: check_provisions(provision_register(desk.recorder, since=since, until=until)))
    _approve(desk, request_no)
    decided = judge("p", lambda: check_provisions(provision_register(desk.recorder, since=since, until=until)))
    assert pending.verdict is Verdict.HOLDS  # nothing has left yet: a request awaiting its decision breaks nothing
    assert decided.verdict is Verdict.HOLDS, decided.evidence
