"""Completions close settlement lines with the right yen; the month's report; nothing personal is kept or logged."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import pytest

from yakuba.center import settlement_report
from yakuba.clock import JST
from yakuba.errors import ValidationError, VerificationError
from yakuba.pki.card import CardInfo
from yakuba.wire.messages import CompletionResult, Outcome

from .center_support import KODAIRA, NISHITOKYO, PIN, header
from .conftest import Network


def _refused(result: CompletionResult, code: str, *, retry: bool = False) -> None:
    """RESULT is a refusal with CODE: final (retry=false) unless RETRY, and it closed nothing."""
    assert (result.error, result.retry, result.closed) == (code, retry, None)


def _month(net: Network) -> str:
    return net.clock.now().astimezone(JST).strftime("%Y-%m")


def _rows(net: Network) -> dict[tuple[str, str, str], tuple[int, int, int, int, int, int, int]]:
    return {
        (row.city, row.chain_id, row.kind): (
            row.transactions,
            row.closed,
            row.failed,
            row.pending,
            row.copies_printed,
            row.copies_voided,
            row.amount_yen,
        )
        for row in settlement_report(net.dep, _month(net))
    }


async def test_lines_go_from_pending_to_closed_with_printed_copies_times_fee(net: Network, card: CardInfo) -> None:
    printed = await net.kiosk.signed(card, copies=3)
    jammed = await net.kiosk.signed(card, copies=1)
    abandoned = await net.kiosk.signed(card, copies=2)
    koseki = await net.kiosk.signed(card, city=KODAIRA, kind="inkan")
    for submission in (printed, jammed, abandoned, koseki):
        await net.kiosk.submit(submission)
    assert _rows(net)[(NISHITOKYO, "midori", "juminhyo")] == (3, 0, 0, 3, 0, 0, 0)

    assert (await net.kiosk.complete(printed, printed=2, voided=1)).closed
    assert (await net.kiosk.complete(jammed, outcome=Outcome.JAM_VOIDED, printed=0, voided=1)).closed
    assert (await net.kiosk.complete(abandoned, outcome=Outcome.ABANDONED, printed=0)).closed
    assert (await net.kiosk.complete(koseki)).closed

    rows = _rows(net)
    assert rows[(NISHITOKYO, "midori", "juminhyo")] == (3, 3, 0, 0, 2, 2, 400)
    assert rows[(KODAIRA, "midori", "inkan")] == (1, 1, 0, 0, 1, 0, 200)
    # The completion went on to the city, each batch keyed by its batch id.
    assert net.forwarders[NISHITOKYO].forwarded() == [
        printed.request.transaction_id,
        jammed.request.transaction_id,
        abandoned.request.transaction_id,
    ]
    assert all(header(h) == batch.batch_id for h, batch in net.forwarders[NISHITOKYO].batches)
    assert net.forwarders[KODAIRA].forwarded() == [koseki.request.transaction_id]


async def test_a_retried_completion_changes_nothing(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card, copies=2)
    await net.kiosk.submit(submission)
    assert (await net.kiosk.complete(submission, printed=2)).closed
    retry = await net.kiosk.complete(submission, printed=1)
    assert retry.closed is False
    assert _rows(net)[(NISHITOKYO, "midori", "juminhyo")][-1] == 400
    assert net.forwarders[NISHITOKYO].forwarded() == [submission.request.transaction_id]  # not forwarded again


async def test_completion_counts_must_fit_the_request(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card, copies=2)
    await net.kiosk.submit(submission)
    _refused(await net.kiosk.complete(submission, printed=2, voided=1), "verification_failed")  # exceeds
    _refused(await net.kiosk.complete(submission, outcome=Outcome.PRINTED, printed=0, voided=2), "invalid_input")
    _refused(await net.kiosk.complete(submission, outcome=Outcome.ABANDONED, printed=1), "invalid_input")
    assert net.forwarders[NISHITOKYO].batches == []
    assert _rows(net)[(NISHITOKYO, "midori", "juminhyo")][3] == 1  # still pending


async def test_a_completion_for_an_unknown_or_mismatched_transaction_is_refused(net: Network, card: CardInfo) -> None:
    never_submitted = net.kiosk.sign(card, net.kiosk.request(), await net.kiosk.challenge())
    _refused(await net.kiosk.complete(never_submitted), "not_found")
    submission = await net.kiosk.signed(card)
    await net.kiosk.submit(submission)
    wrong_kind = submission.model_copy(update={"request": submission.request.model_copy(update={"kind": "inkan"})})
    _refused(await net.kiosk.complete(wrong_kind), "verification_failed")  # does not match
    assert net.forwarders[NISHITOKYO].batches == []
    assert _rows(net)[(NISHITOKYO, "midori", "juminhyo")][3] == 1  # still pending


async def test_an_unreachable_city_keeps_the_completion_retryable(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card)
    await net.kiosk.submit(submission)
    await net.forwarder_servers[NISHITOKYO].stop()
    _refused(await net.kiosk.complete(submission), "upstream_error", retry=True)
    assert _rows(net)[(NISHITOKYO, "midori", "juminhyo")][3] == 1  # pending, not lost, not charged


async def test_a_failed_transaction_is_never_charged(net: Network, card: CardInfo) -> None:
    net.forwarders[NISHITOKYO].mode = "ineligible"
    submission = await net.kiosk.signed(card)
    with pytest.raises(Exception, match="kiosk"):
        await net.kiosk.submit(submission)
    _refused(await net.kiosk.complete(submission), "verification_failed")  # a cancelled one never printed
    assert net.forwarders[NISHITOKYO].batches == []
    answer = await net.kiosk.complete(submission, outcome=Outcome.ABANDONED, printed=0)
    assert answer.closed is False
    # The abandoned report still went to the city, to close the issuer's log.
    assert net.forwarders[NISHITOKYO].forwarded() == [submission.request.transaction_id]
    assert _rows(net)[(NISHITOKYO, "midori", "juminhyo")] == (1, 0, 1, 0, 0, 0, 0)


def test_a_month_is_yyyy_mm(net: Network) -> None:
    for bad in ("2025-13", "2025/06", "25-06", "2025-6", ""):
        with pytest.raises(ValidationError):
            settlement_report(net.dep, bad)
    assert settlement_report(net.dep, "1999-02") == []


async def test_the_database_and_logs_hold_no_card_serial_and_nothing_personal(
    net: Network, enrol: Callable[..., CardInfo], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cards = [enrol(), enrol()]
    net.forwarders[KODAIRA].mode = "ineligible"
    for card in cards:
        submission = await net.kiosk.signed(card, options={"show_relationship": True})
        await net.kiosk.submit(submission)
        assert (await net.kiosk.complete(submission)).closed
        with pytest.raises(Exception, match="kiosk"):
            await net.kiosk.submit(await net.kiosk.signed(card, city=KODAIRA))
    signed = await net.kiosk.signed(cards[0])
    altered = signed.model_copy(update={"request": signed.request.model_copy(update={"copies": 2})})
    with pytest.raises(VerificationError):  # a refusal (bad card signature) says nothing about the card either
        await net.kiosk.submit(altered)
    forbidden: list[bytes] = []
    for card in cards:
        certificate = net.kiosk.sign(card, net.kiosk.request(), b"\x00" * 32).card_certificate
        forbidden += [
            card.serial.encode(),
            card.serial.lower().encode(),
            str(int(card.serial, 16)).encode(),
            card.fingerprint.encode(),
            certificate,
            certificate[-64:],
            PIN.encode() + b"\n",
        ]
    raw = b"".join(path.read_bytes() for path in net.center_db.parent.glob("center.sqlite3*"))
    with sqlite3.connect(net.center_db) as db:
        dump = "\n".join(db.iterdump()).encode()
    logs = caplog.text.encode()
    for needle in forbidden:
        assert needle not in raw
        assert needle not in dump
        assert needle not in logs
    # What the center does keep: ids, city, chain, kind, counts, yen.
    assert b"settlement_lines" in dump
    assert b"routed" in logs
