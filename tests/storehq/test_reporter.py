"""The store HQ's completion outbox: the kiosk is answered at once, the center hears in batches, nothing is lost."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from yakuba.clock import FixedClock
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.errors import UpstreamError
from yakuba.pki import ServiceIdentity
from yakuba.storehq import BillingLine, BillingStatus, BillingStore, count_unreported
from yakuba.storehq._reporter import STALE_AFTER, CompletionReporter
from yakuba.storehq.service import Closing
from yakuba.wire import Server, ServiceClient
from yakuba.wire.messages import CompletionAnswer, CompletionBatch, CompletionBatchAnswer, CompletionReport, Outcome

from .storehq_support import (
    CITY,
    FEE,
    KIOSK,
    OTHER_KIOSK,
    StandInCenter,
    center_app,
    delivered,
    new_transaction_id,
    submission,
)

KioskClient = Callable[..., AbstractAsyncContextManager[ServiceClient]]

WAIT_S = 20.0
"""A bound for conditions that normally hold within milliseconds (a backoff step is at most a few seconds here)."""


async def until(condition: Callable[[], bool], *, timeout_s: float = WAIT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def issue(client: ServiceClient, kiosk: str = KIOSK) -> str:
    sub = submission(copies=1, kiosk_id=kiosk)
    tx = sub.request.transaction_id
    await client.post_json("/v1/issuances", sub.model_dump(mode="json"), idempotency_key=tx)
    return tx


async def complete(client: ServiceClient, tx: str, *, outcome: Outcome = Outcome.PRINTED) -> bool:
    """The kiosk's completion report; the HQ's ``closed``."""
    printed = 1 if outcome is Outcome.PRINTED else 0
    report = CompletionReport(transaction_id=tx, outcome=outcome, copies_printed=printed, copies_voided=0)
    body = await client.post_json("/v1/completions", report.model_dump(mode="json"), idempotency_key=tx)
    return CompletionAnswer.model_validate(body).closed


async def issue_and_complete(client: ServiceClient, kiosk: str = KIOSK) -> tuple[str, bool]:
    """One transaction through the HQ: submitted, then completed; its id and the HQ's ``closed``."""
    tx = await issue(client, kiosk)
    return tx, await complete(client, tx)


# -- the real HQ over mTLS, with the stand-in center --------------------------------------------------------


async def test_a_completion_is_answered_at_once_and_reaches_the_center_in_a_batch(
    kiosk_client: KioskClient, center: StandInCenter, deployment: Deployment, hq_database: Path
) -> None:
    center.gate = asyncio.Event()  # the center takes the batch but does not answer yet
    try:
        async with kiosk_client(KIOSK) as client:
            tx, closed = await asyncio.wait_for(issue_and_complete(client), timeout=10)
        assert closed
        await until(lambda: len(center.batches) == 1)
        assert count_unreported(deployment, chains={"midori"}) == 1  # answered, closed, not yet at the center
    finally:
        center.gate.set()
    await delivered(deployment)
    [(batch, key)] = center.batches
    assert key == batch.batch_id
    [tagged] = batch.completions
    assert (tagged.transaction_id, tagged.chain_id, tagged.kiosk_id, tagged.city, tagged.kind) == (
        tx,
        "midori",
        KIOSK,
        CITY,
        "juminhyo",
    )
    assert (tagged.outcome, tagged.copies_printed, tagged.copies_voided) == (Outcome.PRINTED, 1, 0)


async def test_completions_arriving_during_a_send_leave_together_in_the_next_batch(
    kiosk_client: KioskClient, center: StandInCenter, deployment: Deployment, hq_database: Path
) -> None:
    many = 30
    center.gate = asyncio.Event()
    try:
        async with kiosk_client(KIOSK) as client, kiosk_client(OTHER_KIOSK) as other:
            first, _ = await issue_and_complete(client)
            await until(lambda: len(center.batches) == 1)  # in flight, held by the center
            answered = await asyncio.gather(
                *(
                    issue_and_complete(client, KIOSK) if n % 2 else issue_and_complete(other, OTHER_KIOSK)
                    for n in range(many)
                )
            )
        assert all(closed for _, closed in answered)
    finally:
        center.gate.set()
    await delivered(deployment)
    sizes = [len(batch.completions) for batch, _ in center.batches]
    assert sizes == [1, many]
    assert center.closed_once() == {tx: 1 for tx in [first, *(tx for tx, _ in answered)]}


async def test_center_down_the_kiosk_is_still_answered_and_the_facts_arrive_when_it_is_back(
    kiosk_client: KioskClient,
    center: StandInCenter,
    center_server: Server,
    deployment: Deployment,
    hq_database: Path,
    identity: Callable[..., ServiceIdentity],
) -> None:
    port = center_server.port
    async with kiosk_client(KIOSK) as client:
        issued = [await issue(client) for _ in range(3)]  # the center is up for the issuances
        await center_server.stop()
        closed = [await complete(client, tx) for tx in issued]
    assert closed == [True, True, True]
    await asyncio.sleep(1.0)  # the reporter tries, fails and backs off
    assert count_unreported(deployment, chains={"midori"}) == 3
    assert center.batches == []
    async with Server(app=center_app(center), identity=identity("center-1", "dedicated"), port=port):
        await delivered(deployment)
    assert center.closed_once() == dict.fromkeys(issued, 1)


# -- the reporter itself, on a real ledger, with the stand-in center's contract in memory -------------------


class CenterLinkInMemory:
    """`CenterLink.complete_batch` answered by a StandInCenter without a network; DOWN: unreachable."""

    def __init__(self, center: StandInCenter) -> None:
        self.center = center
        self.down = False
        self.calls = 0
        self.explode: BaseException | None = None

    async def complete_batch(self, batch: CompletionBatch) -> CompletionBatchAnswer:
        self.calls += 1
        if self.explode is not None:
            exc, self.explode = self.explode, None
            raise exc
        if self.down:
            raise UpstreamError("the center cannot be reached")
        return await self.center.answer_batch(batch, batch.batch_id)


@pytest.fixture
def link(center: StandInCenter) -> CenterLinkInMemory:
    return CenterLinkInMemory(center)


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hq.sqlite3'}"


@pytest.fixture
def ledger(database: str) -> BillingStore:
    return BillingStore.open(engine=make_engine(database))


def close_new_line(
    ledger: BillingStore, clock: FixedClock, *, outcome: BillingStatus = BillingStatus.PRINTED
) -> BillingLine:
    """A line opened, priced and closed in the ledger, as relay_issuance and relay_completion leave it."""
    tx = new_transaction_id()
    now = clock.now()
    ledger.open_line(
        BillingLine(
            transaction_id=tx,
            chain_id="midori",
            kiosk_id=KIOSK,
            business_day=now.date(),
            city=CITY,
            kind="juminhyo",
            copies=1,
            submission_digest=bytes(32),
            status=BillingStatus.PENDING,
            opened_at=now,
        )
    )
    ledger.record_fee(tx, fee_per_copy=FEE, issuer_id="nishitokyo-issuer-juki")
    printed = 1 if outcome is BillingStatus.PRINTED else 0
    closing = Closing(
        status=outcome, copies_printed=printed, copies_voided=0, amount_yen=FEE * printed, reason="", closed_at=now
    )
    line, changed = ledger.close_line(tx, closing)
    assert changed
    return line


def new_reporter(ledger: BillingStore, link: CenterLinkInMemory, clock: FixedClock) -> CompletionReporter:
    return CompletionReporter(ledger=ledger, center=link, clock=clock, linger_s=0.0, poll_interval_s=0.05)


@pytest.fixture
async def reporter(
    ledger: BillingStore, link: CenterLinkInMemory, clock: FixedClock
) -> AsyncIterator[CompletionReporter]:
    running = new_reporter(ledger, link, clock)
    running.start()
    yield running
    await running.stop()


class SweepCountingStore(BillingStore):
    """The ledger, counting the reporter's sweeps (a test waits for the first one, which takes every line)."""

    sweeps = 0

    def unreported(self, limit: int, *, closed_before: dt.datetime | None = None) -> list[BillingLine]:
        self.sweeps += 1
        return super().unreported(limit, closed_before=closed_before)


def batches_of(center: StandInCenter, tx: str) -> int:
    return sum(1 for batch, _ in center.batches if any(c.transaction_id == tx for c in batch.completions))


async def test_lines_left_by_a_crash_are_reported_when_the_reporter_starts(
    ledger: BillingStore, link: CenterLinkInMemory, center: StandInCenter, clock: FixedClock
) -> None:
    left = [close_new_line(ledger, clock).transaction_id for _ in range(3)]
    running = new_reporter(ledger, link, clock)
    running.start()
    try:
        await until(lambda: ledger.count_unreported() == 0)
    finally:
        await running.stop()
    assert center.closed_once() == dict.fromkeys(left, 1)
    assert all(ledger.fetch_line(tx).reported_at == clock.now() for tx in left)  # type: ignore[union-attr]


async def test_a_final_refusal_is_recorded_for_an_operator_and_never_resent(
    ledger: BillingStore,
    center: StandInCenter,
    clock: FixedClock,
    reporter: CompletionReporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused, accepted = close_new_line(ledger, clock), close_new_line(ledger, clock)
    center.refused_items[refused.transaction_id] = "transaction_mismatch"
    reporter.enqueue(refused)
    reporter.enqueue(accepted)
    await until(lambda: ledger.count_unreported() == 0)
    line = ledger.fetch_line(refused.transaction_id)
    assert line is not None
    assert (line.report_error, line.reported_at) == ("transaction_mismatch", clock.now())
    assert ledger.fetch_line(accepted.transaction_id).report_error is None  # type: ignore[union-attr]
    later = close_new_line(ledger, clock)
    reporter.enqueue(later)
    await until(lambda: ledger.count_unreported() == 0)
    await asyncio.sleep(0.2)  # a few sweeps
    assert batches_of(center, refused.transaction_id) == 1
    assert f"tx={refused.transaction_id} refused by the center for good [transaction_mismatch]" in caplog.text


async def test_a_transient_error_of_one_item_is_resent_and_the_others_are_not(
    ledger: BillingStore, center: StandInCenter, clock: FixedClock, reporter: CompletionReporter
) -> None:
    unlucky, lucky = close_new_line(ledger, clock), close_new_line(ledger, clock)
    center.transient_items[unlucky.transaction_id] = 1  # its city is not reached the first time
    reporter.enqueue(unlucky)
    reporter.enqueue(lucky)
    await until(lambda: ledger.count_unreported() == 0)
    assert (batches_of(center, unlucky.transaction_id), batches_of(center, lucky.transaction_id)) == (2, 1)
    assert ledger.fetch_line(unlucky.transaction_id).report_error is None  # type: ignore[union-attr]
    assert center.closed_once() == {lucky.transaction_id: 1, unlucky.transaction_id: 1}


async def test_an_answer_for_another_batch_closes_nothing(
    ledger: BillingStore,
    center: StandInCenter,
    clock: FixedClock,
    reporter: CompletionReporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    center.answer_for_other_batch = True
    line = close_new_line(ledger, clock)
    reporter.enqueue(line)
    await until(lambda: len(center.batches) >= 1)
    await asyncio.sleep(0.1)
    assert ledger.count_unreported() == 1
    assert "integrity: the center answered batch" in caplog.text
    center.answer_for_other_batch = False
    await until(lambda: ledger.count_unreported() == 0)  # the same line, sent again after the backoff
    assert batches_of(center, line.transaction_id) >= 2


async def test_the_center_down_is_retried_with_backoff_not_in_a_loop(
    ledger: BillingStore,
    link: CenterLinkInMemory,
    center: StandInCenter,
    clock: FixedClock,
    reporter: CompletionReporter,
) -> None:
    link.down = True
    lines = [close_new_line(ledger, clock) for _ in range(3)]
    for line in lines:
        reporter.enqueue(line)
    await asyncio.sleep(1.2)  # tries at about 0, 0.5 and 1.5 s
    assert 1 <= link.calls <= 3
    assert ledger.count_unreported() == 3
    link.down = False
    await until(lambda: ledger.count_unreported() == 0)
    assert center.closed_once() == {line.transaction_id: 1 for line in lines}


async def test_the_loop_survives_the_unexpected(
    ledger: BillingStore,
    link: CenterLinkInMemory,
    center: StandInCenter,
    clock: FixedClock,
    reporter: CompletionReporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link.explode = RuntimeError("a bug with a secret 9F3A7C21 in its message")
    line = close_new_line(ledger, clock)
    reporter.enqueue(line)
    await until(lambda: ledger.count_unreported() == 0)
    assert "unexpected RuntimeError" in caplog.text
    assert "9F3A7C21" not in caplog.text
    assert center.closed_once() == {line.transaction_id: 1}


async def test_a_stop_during_a_send_leaves_the_line_for_the_next_reporter(
    ledger: BillingStore, link: CenterLinkInMemory, center: StandInCenter, clock: FixedClock
) -> None:
    center.gate = asyncio.Event()
    first = new_reporter(ledger, link, clock)
    first.start()
    line = close_new_line(ledger, clock)
    first.enqueue(line)
    await until(lambda: len(center.batches) == 1)
    await first.stop()
    assert ledger.count_unreported() == 1
    center.gate.set()
    second = new_reporter(ledger, link, clock)
    second.start()
    try:
        await until(lambda: ledger.count_unreported() == 0)
    finally:
        await second.stop()
    assert center.closed_once() == {line.transaction_id: 1}


async def test_two_reporters_on_one_database_send_each_line_once_and_pick_up_what_the_other_left(
    database: str, link: CenterLinkInMemory, center: StandInCenter, clock: FixedClock
) -> None:
    """Two worker processes of one HQ: each reports what it closed; a line closed but never reported by its
    worker (it died) is taken up by a sweep once stale; a line sent by both is answered closed once."""
    stores = [SweepCountingStore.open(engine=make_engine(database)), SweepCountingStore(engine=make_engine(database))]
    reporters = [new_reporter(store, link, clock) for store in stores]
    for running in reporters:
        running.start()
    try:
        await until(lambda: all(store.sweeps for store in stores))  # both took what a crash left: nothing
        own = []
        for n in range(40):
            line = close_new_line(stores[n % 2], clock)
            reporters[n % 2].enqueue(line)
            own.append(line.transaction_id)
            if n % 8 == 0:
                await asyncio.sleep(0)
        await until(lambda: stores[0].count_unreported() == 0)
        assert center.closed_once() == dict.fromkeys(own, 1)  # no line sent twice
        orphans = [close_new_line(stores[0], clock).transaction_id for _ in range(3)]  # its worker died
        await asyncio.sleep(0.2)
        assert stores[1].count_unreported() == 3  # not stale yet: its own worker might still send it
        clock.advance(STALE_AFTER + dt.timedelta(seconds=1))
        await until(lambda: stores[1].count_unreported() == 0)
        counts = center.closed_once()
        assert all(1 <= counts[tx] <= 2 for tx in orphans)  # by either reporter, at most both: still closed once
    finally:
        for running in reporters:
            await running.stop()


async def test_a_backlog_past_what_is_held_in_memory_is_delivered_from_the_ledger(
    ledger: BillingStore, link: CenterLinkInMemory, center: StandInCenter, clock: FixedClock
) -> None:
    """A long outage of a busy chain: memory holds only so many lines, the rest wait in the ledger."""
    running = CompletionReporter(
        ledger=ledger, center=link, clock=clock, linger_s=0.0, poll_interval_s=0.05, batch_size=3, max_held=5
    )
    link.down = True
    running.start()
    try:
        await asyncio.sleep(0.1)
        lines = [close_new_line(ledger, clock) for _ in range(12)]
        for line in lines:
            running.enqueue(line)
        assert running.held == 5
        link.down = False
        clock.advance(STALE_AFTER + dt.timedelta(seconds=1))  # the rest are stale now: any sweep takes them
        await until(lambda: ledger.count_unreported() == 0)
    finally:
        await running.stop()
    assert center.closed_once() == {line.transaction_id: 1 for line in lines}
    assert max(len(batch.completions) for batch, _ in center.batches) == 3


def test_lines_an_older_hq_left_unacknowledged_are_in_the_outbox_after_the_upgrade(database: str) -> None:
    """Before 0002 a completion the center did not acknowledge stayed closed with no reported_at, for an operator
    to resend: after the upgrade the reporter finds it like any other unreported line."""
    from yakuba.database import migrate
    from yakuba.storehq.store import MIGRATIONS, VERSION_TABLE

    engine = make_engine(database)
    migrate(engine, script_location=MIGRATIONS, version_table=VERSION_TABLE, revision="0001")
    tx = new_transaction_id()
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO billing_lines (transaction_id, chain_id, kiosk_id, business_day, city, kind, copies,"
            " submission_digest, status, fee_per_copy, issuer_id, copies_printed, copies_voided, amount_yen, reason,"
            " opened_at, closed_at, reported_at) VALUES (?, 'midori', ?, '2025-11-26', ?, 'juminhyo', 1, ?,"
            " 'printed', 200, 'nishitokyo-issuer-juki', 1, 0, 200, '', '2025-11-26 01:30:00', '2025-11-26 01:31:00',"
            " NULL)",
            (tx, KIOSK, CITY, bytes(32)),
        )
    upgraded = BillingStore.open(engine=engine)
    [line] = upgraded.unreported(10)
    assert (line.transaction_id, line.status, line.report_error) == (tx, BillingStatus.PRINTED, None)
    assert upgraded.count_unreported() == 1


def test_a_completion_of_a_pending_line_cannot_be_formed(ledger: BillingStore, clock: FixedClock) -> None:
    from yakuba.storehq.service import completion_of

    line = close_new_line(ledger, clock, outcome=BillingStatus.VOIDED)
    report = completion_of(line)
    assert (report.outcome, report.copies_printed) == (Outcome.JAM_VOIDED, 0)
    with pytest.raises(ValueError, match="pending"):
        completion_of(dataclasses.replace(line, status=BillingStatus.PENDING))
