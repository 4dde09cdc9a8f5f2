"""Each check holds on a sound system and fails when its condition is broken on purpose (issue 10)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from yakuba.audit import Actor, AuditEntry
from yakuba.council import sample_record
from yakuba.council.checks import (
    HopProbe,
    ProvisionRegister,
    Verdict,
    check_media_ledger,
    check_mutual_tls,
    check_provisions,
    check_relays_hold_nothing_personal,
    check_retention_window,
    check_sealed_end_to_end,
    check_views_have_purpose,
    judge,
)
from yakuba.recorder.service import CardState, Discrepancy, PlaceKind

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
ACTOR = Actor(role="recorder", instance="recorder")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Provision:
    request_no: str = "P-2025-001"
    requester_kind: str = "police"
    legal_basis: str = "刑事訴訟法197条2項"
    received_at: dt.datetime = T0
    decision: str | None = "approved"
    decided_by_role: str | None = "section_chief"
    decided_at: dt.datetime | None = T0
    return_due: dt.datetime | None = T0 + dt.timedelta(days=30)
    returned_or_destroyed_at: dt.datetime | None = None
    status: str = "provided"


def verdict(check_id: str, run: object) -> Verdict:
    return judge(check_id, run).verdict  # type: ignore[arg-type]


def test_sample_record_holds_both_consultations_with_conditions_and_dissent() -> None:
    record = sample_record()
    assert [c.number for c in record.consultations] == ["議題1", "議題2"]
    konbini, recorder = record.consultations
    assert konbini.answer is not None
    assert recorder.answer is not None
    assert "全員一致ではない" in konbini.answer.dissent[0].text.ja
    assert konbini.deliberations[0].date == dt.date(2016, 6, 27)
    assert konbini.deliberations[0].absent == ("岡本委員",)
    checks = {c for _, cond in record.conditions() for c in cond.checks}
    assert {"network.mutual_tls", "recorder.provisions_on_record", "recorder.media_ledger"} <= checks


def test_provisions_hold_when_each_has_request_basis_decision_and_return() -> None:
    register = ProvisionRegister(provisions=(Provision(), Provision(request_no="P-2", decision=None)), available=True)
    assert verdict("p", lambda: check_provisions(register)) is Verdict.HOLDS


@pytest.mark.parametrize(
    "bad",
    [
        Provision(decided_by_role=None, decided_at=None),
        Provision(decided_by_role="staff"),
        Provision(return_due=None),
        Provision(legal_basis=""),
    ],
)
def test_provisions_fail_without_decision_return_or_basis(bad: Provision) -> None:
    register = ProvisionRegister(provisions=(Provision(), bad), available=True)
    assert verdict("p", lambda: check_provisions(register)) is Verdict.FAILS


def card(card_id: str, place: PlaceKind) -> CardState:
    return CardState(card_id=card_id, capacity_bytes=1, place=place, place_ref="R1", since=T0)


def test_media_ledger_holds_and_fails_on_a_card_without_a_place() -> None:
    cards = [card("SD-1", PlaceKind.RECORDER), card("SD-2", PlaceKind.SAFE)]
    assert verdict("m", lambda: check_media_ledger(cards=cards, alerts=[])) is Verdict.HOLDS
    alert = Discrepancy(card_id="SD-2", problem="no_known_place", ledger_place=None)
    result = judge("m", lambda: check_media_ledger(cards=cards, alerts=[alert]))
    assert result.verdict is Verdict.FAILS
    assert "SD-2" in result.evidence[0]
    assert verdict("m", lambda: check_media_ledger(cards=[], alerts=[])) is Verdict.CANNOT_TELL


def erased(after: dt.timedelta) -> AuditEntry:
    end = T0
    return AuditEntry(
        event_type="footage.erased", actor=ACTOR, time=end + after, fields={"end": end.isoformat(), "sha256": "ab" * 32}
    )


def test_retention_holds_for_erasure_after_the_minimum_and_fails_for_an_early_one() -> None:
    week = dt.timedelta(days=7)
    assert (
        verdict("r", lambda: check_retention_window(erased=[erased(week)], overdue=0, kept_by_hold=0)) is Verdict.HOLDS
    )
    early = [erased(week), erased(dt.timedelta(hours=1))]
    assert verdict("r", lambda: check_retention_window(erased=early, overdue=0, kept_by_hold=0)) is Verdict.FAILS
    assert verdict("r", lambda: check_retention_window(erased=[], overdue=3, kept_by_hold=0)) is Verdict.FAILS


def viewed(purpose: str, hold: int | None = 1) -> AuditEntry:
    fields: dict[str, str | int] = {"segment_id": 5, "purpose_sha256": hashlib.sha256(purpose.encode()).hexdigest()}
    if hold is not None:
        fields["basis_hold_id"] = hold
    return AuditEntry(event_type="footage.viewed", actor=ACTOR, time=T0, fields=fields)


def test_views_need_a_purpose_and_a_hold() -> None:
    assert verdict("v", lambda: check_views_have_purpose([viewed("事故の確認")])) is Verdict.HOLDS
    assert verdict("v", lambda: check_views_have_purpose([viewed("")])) is Verdict.FAILS
    assert verdict("v", lambda: check_views_have_purpose([viewed("事故", hold=None)])) is Verdict.FAILS


def test_relay_scan_finds_a_name_written_to_a_log(tmp_path: Path) -> None:
    log = tmp_path / "center.log"
    log.write_text("2025-03-01 issued kind=juminhyo city=132292\n", encoding="utf-8")
    values = ["西東京太郎", "123456789012"]
    assert verdict("x", lambda: check_relays_hold_nothing_personal(files=[log], values=values)) is Verdict.HOLDS
    log.write_text("issued to 西東京太郎\n", encoding="utf-8")
    result = judge("x", lambda: check_relays_hold_nothing_personal(files=[log], values=values))
    assert result.verdict is Verdict.FAILS
    assert "西東京" not in " ".join(result.evidence)  # the evidence names the file, never the value


def test_sealed_check_fails_on_a_pdf_in_a_relay_or_a_plaintext_field(tmp_path: Path) -> None:
    db = tmp_path / "forwarder.sqlite3"
    db.write_bytes(b"SQLite format 3\x00 rows")
    fields = {"IssuanceAnswer": ("transaction_id", "envelope")}
    assert verdict("s", lambda: check_sealed_end_to_end(relay_files=[db], answer_fields=fields)) is Verdict.HOLDS
    bad_fields = {"IssuanceAnswer": ("envelope", "pdf")}
    assert verdict("s", lambda: check_sealed_end_to_end(relay_files=[db], answer_fields=bad_fields)) is Verdict.FAILS
    db.write_bytes(b"...%PDF-1.7 ...")
    assert verdict("s", lambda: check_sealed_end_to_end(relay_files=[db], answer_fields=fields)) is Verdict.FAILS


GOOD = HopProbe(
    segment_id="lgwan",
    server="fw",
    server_role="forwarder",
    client="center",
    address="127.0.0.1:1",
    tls_version="TLSv1.3",
    cipher="TLS_AES_256_GCM_SHA384",
    server_issuer="CN=lgwan",
    segment_ca="CN=lgwan",
    health_status=200,
    anonymous_refused=True,
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, Verdict.HOLDS),
        ({"tls_version": None, "plain_http": True}, Verdict.FAILS),
        ({"anonymous_refused": False}, Verdict.FAILS),
        ({"server_issuer": "CN=other"}, Verdict.FAILS),
        ({"tls_version": None, "unreachable": True, "error": "unreachable"}, Verdict.CANNOT_TELL),
    ],
)
def test_mutual_tls_verdicts(change: dict[str, object], expected: Verdict) -> None:
    probe = dataclasses.replace(GOOD, **change)  # type: ignore[arg-type]
    assert verdict("t", lambda: check_mutual_tls([GOOD, probe])) is expected
