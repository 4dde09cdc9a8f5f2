"""The resident's flow at the kiosk, against a stand-in HQ over real mTLS: order, PIN, payment, jams, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from yakuba.clock import FixedClock
from yakuba.errors import (
    CardLockedError,
    EligibilityError,
    PinFormatError,
    UpstreamError,
    ValidationError,
    WrongPinError,
)
from yakuba.kiosk.errors import (
    CardStillInsertedError,
    CoinRejectedError,
    DocumentRefusedError,
    KioskTimeoutError,
    StepOrderError,
)
from yakuba.kiosk.service import STEP_TIMEOUT, Kiosk, KioskSession, Step
from yakuba.kiosk.store import KioskLogStore
from yakuba.pki.card import VirtualCardReader
from yakuba.wire.messages import Basis, Outcome

from .kiosk_support import CITY, FEE, KIOSK, PIN, Binding, StandInHq


async def _signed(session: KioskSession, reader: VirtualCardReader, *, kind: str = "juminhyo", copies: int = 2) -> None:
    await session.start()
    await session.insert_card(reader)
    await session.choose_basis(Basis.RESIDENCE, CITY)
    await session.choose(kind, {"show_relationship": True}, copies)
    await session.enter_pin(PIN)


async def _paid(session: KioskSession, reader: VirtualCardReader, *, copies: int = 2) -> None:
    await _signed(session, reader, copies=copies)
    await session.remove_card()
    await session.request_issuance()
    await session.confirm_fee()
    payment = await session.pay(1000)
    assert payment.complete


def _spooled(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.iterdir()) if spool.is_dir() else []


async def test_a_whole_transaction(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, kiosk_log: KioskLogStore, fresh_state: Path
) -> None:
    session = kiosk.new_session()
    await _signed(session, reader, copies=2)
    await session.remove_card()
    quote = await session.request_issuance()
    assert (quote.fee_per_copy, quote.copies, quote.total_yen) == (FEE, 2, 2 * FEE)
    assert quote.document_serial == hq.document.summary.serial
    assert await session.confirm_fee() == quote
    first = await session.pay(100, 100)
    assert (first.inserted, first.remaining, first.complete) == (200, 200, False)
    second = await session.pay(500, 100)
    assert (second.inserted, second.remaining, second.returned) == (700, 0, (100,))
    receipt = await session.print()
    tx = receipt.transaction_id
    assert receipt.outcome is Outcome.PRINTED
    assert [p.name for p in receipt.printed] == [f"{tx}-copy01.pdf", f"{tx}-copy02.pdf"]
    assert all(p.read_bytes() == hq.document.pdf for p in receipt.printed)
    assert (receipt.charged_yen, receipt.change, receipt.reported) == (2 * FEE, (100, 100, 100), True)
    assert session.reminder_active
    [(submission, key)] = hq.submissions
    assert key == tx == submission.request.transaction_id
    assert submission.request.kiosk_id == KIOSK
    [(report, report_key)] = hq.completions
    assert report_key == tx
    assert (report.outcome, report.copies_printed, report.copies_voided) == (Outcome.PRINTED, 2, 0)
    assert await session.take_certificate() == ()
    assert not session.reminder_active
    assert session.step is Step.DONE
    assert _spooled(fresh_state) == []
    [entry] = kiosk_log.fetch_entries()
    assert (entry.transaction_id, entry.outcome, entry.amount_yen, entry.reported) == (tx, Outcome.PRINTED, 400, True)


async def test_taking_the_certificate_hands_the_copies_over(
    kiosk: Kiosk, reader: VirtualCardReader, fresh_state: Path, tmp_path: Path
) -> None:
    session = kiosk.new_session()
    await _paid(session, reader, copies=1)
    await session.print()
    taken = await session.take_certificate(hand_to=tmp_path / "hand")
    assert [p.parent for p in taken] == [tmp_path / "hand"]
    assert _spooled(fresh_state) == []


async def test_the_flow_goes_on_only_in_order(kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq) -> None:
    session = kiosk.new_session()
    with pytest.raises(StepOrderError):
        await session.insert_card(reader)
    await session.start()
    await session.insert_card(reader)
    with pytest.raises(StepOrderError):
        await session.choose("juminhyo", {}, 1)
    with pytest.raises(StepOrderError):
        await session.enter_pin(PIN)
    await session.choose_basis("residence", CITY)
    await session.choose("juminhyo", {}, 1)
    await session.enter_pin(PIN)
    # The card signed; until it is removed nothing is sent, paid or printed.
    with pytest.raises(CardStillInsertedError):
        await session.request_issuance()
    with pytest.raises(CardStillInsertedError):
        await session.print()
    with pytest.raises(CardStillInsertedError):
        await session.pay(100)
    assert hq.submissions == []
    await session.remove_card()
    # No payment before the certificate is received and verified.
    with pytest.raises(StepOrderError):
        await session.pay(100)
    with pytest.raises(StepOrderError):
        await session.print()
    await session.request_issuance()
    with pytest.raises(StepOrderError):
        await session.print()
    await session.confirm_fee()
    with pytest.raises(StepOrderError):
        await session.print()
    with pytest.raises(StepOrderError):
        kiosk.new_session()
    assert session.step is Step.FEE_CONFIRMED


async def test_bad_choices_are_refused_before_the_pin(kiosk: Kiosk, reader: VirtualCardReader) -> None:
    session = kiosk.new_session()
    await session.start()
    await session.insert_card(reader)
    with pytest.raises(ValidationError):
        await session.choose_basis("elsewhere", CITY)
    with pytest.raises(ValidationError):
        await session.choose_basis(Basis.HONSEKI, "Tokyo")
    await session.choose_basis(Basis.HONSEKI, CITY)
    with pytest.raises(ValidationError):
        await session.choose("passport", {}, 1)
    with pytest.raises(ValidationError):
        await session.choose("juminhyo", {}, 11)
    with pytest.raises(ValidationError):
        await session.choose("juminhyo", {"ratio": 0.5}, 1)  # type: ignore[dict-item]
    assert session.step is Step.BASIS


async def test_pin_tries_are_shown_and_a_right_pin_resets_them(kiosk: Kiosk, reader: VirtualCardReader) -> None:
    session = kiosk.new_session()
    await session.start()
    status = await session.insert_card(reader)
    assert status.tries_left == 3
    await session.choose_basis(Basis.RESIDENCE, CITY)
    await session.choose("juminhyo", {}, 1)
    with pytest.raises(PinFormatError):
        await session.enter_pin("12")
    assert session.pin_tries_left() == 3
    with pytest.raises(WrongPinError) as wrong:
        await session.enter_pin("9999")
    assert wrong.value.tries_left == 2
    assert "あと2回" in wrong.value.text_ja
    assert session.pin_tries_left() == 2
    await session.enter_pin(PIN)
    assert session.step is Step.SIGNED
    assert reader.pin_tries_left() == 3


async def test_a_card_locked_by_wrong_pins_ends_the_session(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, kiosk_log: KioskLogStore
) -> None:
    session = kiosk.new_session()
    await session.start()
    await session.insert_card(reader)
    await session.choose_basis(Basis.RESIDENCE, CITY)
    await session.choose("juminhyo", {}, 1)
    for _ in range(2):
        with pytest.raises(WrongPinError):
            await session.enter_pin("0000")
    with pytest.raises(CardLockedError):
        await session.enter_pin("0000")
    assert session.step is Step.ABORTED
    await session.remove_card()
    again = kiosk.new_session()
    await again.start()
    with pytest.raises(CardLockedError):
        await again.insert_card(reader)
    assert again.step is Step.ABORTED
    assert hq.challenges == []
    assert kiosk_log.fetch_entries() == []


async def test_removing_the_card_before_the_pin_cancels(kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq) -> None:
    session = kiosk.new_session()
    await session.start()
    await session.insert_card(reader)
    await session.choose_basis(Basis.RESIDENCE, CITY)
    await session.remove_card()
    assert session.step is Step.ABORTED
    assert hq.challenges == []


async def test_cancel_refunds_everything_and_reports_abandoned(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, kiosk_log: KioskLogStore, fresh_state: Path
) -> None:
    session = kiosk.new_session()
    await _signed(session, reader)
    await session.remove_card()
    await session.request_issuance()
    await session.confirm_fee()
    with pytest.raises(CoinRejectedError):
        await session.pay(100, 5)
    await session.pay(10, 1000)
    assert session.step is Step.PAID
    assert await session.cancel() == (100, 10, 1000)
    [(report, _)] = hq.completions
    assert (report.outcome, report.reason) == (Outcome.ABANDONED, "cancelled")
    assert _spooled(fresh_state) == []
    [entry] = kiosk_log.fetch_entries()
    assert (entry.outcome, entry.amount_yen, entry.reason) == (Outcome.ABANDONED, 0, "cancelled")


async def test_a_paper_jam_voids_that_copy_only(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, fresh_state: Path, kiosk_log: KioskLogStore
) -> None:
    kiosk.printer.jam_on(2)  # type: ignore[attr-defined]
    session = kiosk.new_session()
    await _paid(session, reader, copies=3)
    receipt = await session.print()
    tx = receipt.transaction_id
    assert receipt.outcome is Outcome.PRINTED
    assert [p.name for p in receipt.printed] == [f"{tx}-copy01.pdf", f"{tx}-copy03.pdf"]
    assert receipt.voided == (2,)
    assert (receipt.charged_yen, receipt.refunded_for_voided_yen) == (2 * FEE, FEE)
    assert sum(receipt.change) == 1000 - 2 * FEE
    assert _spooled(fresh_state) == [f"{tx}-copy01.pdf", f"{tx}-copy03.pdf"]
    [(report, _)] = hq.completions
    assert (report.copies_printed, report.copies_voided, report.reason) == (2, 1, "paper_jam")
    [entry] = kiosk_log.fetch_entries()
    assert (entry.copies_printed, entry.copies_voided, entry.amount_yen) == (2, 1, 2 * FEE)


async def test_every_copy_jammed_charges_nothing(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, fresh_state: Path
) -> None:
    kiosk.printer.jam_on(1, 2)  # type: ignore[attr-defined]
    session = kiosk.new_session()
    await _paid(session, reader, copies=2)
    receipt = await session.print()
    assert (receipt.outcome, receipt.charged_yen, receipt.change) == (Outcome.JAM_VOIDED, 0, (500, 500))
    assert session.step is Step.DONE
    assert _spooled(fresh_state) == []
    [(report, _)] = hq.completions
    assert (report.outcome, report.copies_voided) == (Outcome.JAM_VOIDED, 2)


@pytest.mark.parametrize("binding", [Binding.OTHER_TRANSACTION, Binding.OTHER_CARD, Binding.OTHER_REQUEST])
async def test_a_wrongly_bound_certificate_is_refused_before_payment_or_printing(
    kiosk: Kiosk,
    reader: VirtualCardReader,
    hq: StandInHq,
    kiosk_log: KioskLogStore,
    fresh_state: Path,
    binding: Binding,
) -> None:
    hq.binding = binding
    session = kiosk.new_session()
    await _signed(session, reader)
    await session.remove_card()
    with pytest.raises(DocumentRefusedError):
        await session.request_issuance()
    assert session.step is Step.ABORTED
    with pytest.raises(StepOrderError):
        await session.pay(1000)
    with pytest.raises(StepOrderError):
        await session.print()
    assert _spooled(fresh_state) == []
    [(report, key)] = hq.completions
    assert key == report.transaction_id == session.transaction_id
    assert (report.outcome, report.copies_printed, report.reason) == (Outcome.ABANDONED, 0, "binding_mismatch")
    [entry] = kiosk_log.fetch_entries()
    assert (entry.outcome, entry.amount_yen, entry.reason) == (Outcome.ABANDONED, 0, "binding_mismatch")
    reader.select_jpki_ap()
    assert reader.pin_tries_left() == 3  # the card is untouched


async def test_a_genuine_certificate_of_another_kind_is_refused(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, fresh_state: Path
) -> None:
    session = kiosk.new_session()
    await _signed(session, reader, kind="inkan")
    await session.remove_card()
    with pytest.raises(DocumentRefusedError):
        await session.request_issuance()
    [(report, _)] = hq.completions
    assert report.reason == "document_mismatch"
    assert _spooled(fresh_state) == []


async def test_a_forged_certificate_is_refused(kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq) -> None:
    pdf = bytearray(hq.document.pdf)
    pdf[len(pdf) // 2] ^= 0x01
    hq.document = type(hq.document)(pdf=bytes(pdf), summary=hq.document.summary, pages=hq.document.pages)
    session = kiosk.new_session()
    await _signed(session, reader)
    await session.remove_card()
    with pytest.raises(DocumentRefusedError):
        await session.request_issuance()
    [(report, _)] = hq.completions
    assert report.reason == "document_invalid"


async def test_an_upstream_refusal_aborts_and_is_reported(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, kiosk_log: KioskLogStore
) -> None:
    hq.refuse_with = EligibilityError()
    session = kiosk.new_session()
    await _signed(session, reader)
    await session.remove_card()
    with pytest.raises(EligibilityError):
        await session.request_issuance()
    assert session.step is Step.ABORTED
    [(report, _)] = hq.completions
    assert (report.outcome, report.reason) == (Outcome.ABANDONED, "not_eligible")
    [entry] = kiosk_log.fetch_entries()
    assert entry.reported


async def test_an_idle_resident_times_out_with_nothing_charged(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, clock: FixedClock
) -> None:
    session = kiosk.new_session()
    await _signed(session, reader)
    await session.remove_card()
    await session.request_issuance()
    await session.confirm_fee()
    await session.pay(100)
    clock.advance(STEP_TIMEOUT + dt.timedelta(seconds=1))
    with pytest.raises(KioskTimeoutError):
        await session.pay(100)
    assert session.step is Step.ABORTED
    [(report, _)] = hq.completions
    assert (report.outcome, report.reason) == (Outcome.ABANDONED, "timeout")


async def test_an_unreachable_hq_aborts_before_the_card_signs(
    deployment: object, reader: VirtualCardReader, document_trust: object, clock: FixedClock, fresh_state: Path
) -> None:
    from yakuba.kiosk import open_kiosk

    async with open_kiosk(
        deployment,  # type: ignore[arg-type]
        instance=KIOSK,
        clock=clock,
        hq_url="https://127.0.0.1:9",
        trust=document_trust,  # type: ignore[arg-type]
    ) as terminal:
        session = terminal.new_session()
        await session.start()
        await session.insert_card(reader)
        await session.choose_basis(Basis.RESIDENCE, CITY)
        await session.choose("juminhyo", {}, 1)
        with pytest.raises(UpstreamError):
            await session.enter_pin(PIN)
        assert session.step is Step.ABORTED
        assert session.transaction_id is None


async def test_taking_the_certificate_late_does_not_undo_the_transaction(
    kiosk: Kiosk, reader: VirtualCardReader, hq: StandInHq, clock: FixedClock, kiosk_log: KioskLogStore
) -> None:
    session = kiosk.new_session()
    await _paid(session, reader, copies=1)
    await session.print()
    clock.advance(STEP_TIMEOUT * 3)
    assert session.reminder_active
    await session.take_certificate()
    assert session.step is Step.DONE
    assert [report.outcome for report, _ in hq.completions] == [Outcome.PRINTED]
    assert [entry.outcome for entry in kiosk_log.fetch_entries()] == [Outcome.PRINTED]
