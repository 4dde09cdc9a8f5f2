"""Two attempts at one transaction forwarded together (a kiosk's retry racing its first try, a double tap):
whatever order they end in, the transaction ends one way only. Found by `yakuba torture`: the first attempt
timed out and failed the line, the second's answer still reached the kiosk, which printed and took the fee
while the center settled the transaction as failed (0 yen)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from yakuba.center import CenterService, LineStatus
from yakuba.center.revocation import RevocationCache
from yakuba.center.store import SqlSettlementStore
from yakuba.clock import FixedClock
from yakuba.config import Deployment
from yakuba.database import make_engine
from yakuba.errors import TransactionConflictError, UpstreamTimeout
from yakuba.pki import CardTrust
from yakuba.pki.card import CardInfo
from yakuba.wire import ChallengeStore
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    RelayedIssuanceAnswer,
    RoutedSubmission,
)

from .center_support import HQ, KIOSK, Kiosk, new_clock
from .test_center_service import LocalCrl


class RacingCity:
    """The first forward of a transaction times out and a later one is answered (FAIL_FIRST), or the first is
    answered and a later one times out (not FAIL_FIRST)."""

    def __init__(self, *, fail_first: bool) -> None:
        self.fail_first = fail_first
        self.calls = 0

    async def submit(self, city: str, submission: RoutedSubmission) -> RelayedIssuanceAnswer:
        self.calls += 1
        first = self.calls == 1
        answer = RelayedIssuanceAnswer(  # as the forwarder answers the center: the envelope as base64 text
            transaction_id=submission.request.transaction_id,
            envelope=base64.b64encode(b"sealed").decode(),
            document_serial="NT-0001-00000001",
            pages=1,
            fee_yen=submission.fee_yen,
            issuer_id="nishitokyo-issuer-juki",
        )
        if self.fail_first:
            if first:
                raise UpstreamTimeout(f"no answer from city {city} in time")
            return answer
        if first:
            return answer
        raise UpstreamTimeout(f"no answer from city {city} in time")

    async def complete_batch(self, city: str, batch: CompletionBatch) -> CompletionBatchAnswer:
        results = [CompletionResult(transaction_id=c.transaction_id, closed=True) for c in batch.completions]
        return CompletionBatchAnswer(batch_id=batch.batch_id, results=results)


@pytest.fixture
def clock() -> FixedClock:
    return new_clock()


def _service(
    deployment: Deployment, tmp_path: Path, clock: FixedClock, city: RacingCity
) -> tuple[CenterService, ChallengeStore, SqlSettlementStore]:
    engine = make_engine(f"sqlite:///{tmp_path}/center.sqlite3")
    store = SqlSettlementStore(engine=engine)
    store.migrate()
    challenges = ChallengeStore.open(engine=engine, clock=clock)
    trust = RevocationCache(anchors=CardTrust.from_deployment(deployment), source=LocalCrl(deployment), clock=clock)
    service = CenterService.from_deployment(
        deployment, challenges=challenges, trust=trust, forwarders=city, store=store, clock=clock
    )
    return service, challenges, store


async def test_an_answer_to_a_transaction_another_attempt_failed_is_withheld(
    deployment: Deployment, card: CardInfo, clock: FixedClock, tmp_path: Path
) -> None:
    city = RacingCity(fail_first=True)
    service, challenges, store = _service(deployment, tmp_path, clock, city)
    kiosk = Kiosk(dep=deployment, hq=None, clock=clock)  # type: ignore[arg-type]
    request = kiosk.request()
    submission = kiosk.sign(card, request, challenges.issue(KIOSK).value)
    with pytest.raises(UpstreamTimeout):
        await service.submit(caller=HQ, submission=submission)  # the first try fails the line...
    line = store.find_line(request.transaction_id)
    assert line is not None
    assert line.status is LineStatus.FAILED
    # ... and a retry that was already past the "existing line" check gets the city's answer: withheld.
    with pytest.raises(TransactionConflictError):
        await service._forward(line, _routed_again(submission, line.fee_yen))
    assert city.calls == 2
    final = store.find_line(request.transaction_id)
    assert final is not None
    assert (final.status, final.amount_yen, final.answered_at) == (LineStatus.FAILED, 0, None)


async def test_a_late_failure_of_a_repeat_does_not_fail_an_answered_transaction(
    deployment: Deployment, card: CardInfo, clock: FixedClock, tmp_path: Path
) -> None:
    city = RacingCity(fail_first=False)
    service, challenges, store = _service(deployment, tmp_path, clock, city)
    kiosk = Kiosk(dep=deployment, hq=None, clock=clock)  # type: ignore[arg-type]
    request = kiosk.request()
    submission = kiosk.sign(card, request, challenges.issue(KIOSK).value)
    answer = await service.submit(caller=HQ, submission=submission)  # answered: the kiosk prints
    assert answer.transaction_id == request.transaction_id
    with pytest.raises(UpstreamTimeout):
        await service.submit(caller=HQ, submission=submission)  # the repeat times out afterwards
    line = store.find_line(request.transaction_id)
    assert line is not None
    assert line.status is LineStatus.PENDING  # still open for the kiosk's completion report, not failed
    assert line.answered_at is not None


def _routed_again(submission: object, fee_yen: int) -> RoutedSubmission:
    from yakuba.center.service import _routed

    return _routed(submission, fee_yen=fee_yen)  # type: ignore[arg-type]
