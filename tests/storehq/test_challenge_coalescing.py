"""The HQ's challenge line: one call to the center at a time, the asks that arrive meanwhile together in the next."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from yakuba.clock import FixedClock
from yakuba.config import Deployment, Role
from yakuba.errors import MaintenanceError, UpstreamError, UpstreamTimeout
from yakuba.pki import ServiceIdentity
from yakuba.storehq import create_app, listen_segment
from yakuba.storehq._challenges import ChallengeCoalescer
from yakuba.wire import Server, ServiceClient, client_session
from yakuba.wire.messages import MAX_CHALLENGE_BATCH, ChallengeAnswer, ChallengeBatchAnswer, ChallengeBatchAsk

from .storehq_support import HQ, KIOSK, OTHER_KIOSK, STORE, StandInCenter

WAIT_S = 10.0
"""How long a test waits for something that normally happens within milliseconds (a call reaching the center)."""

KIOSKS = [f"midori-store-{n}" for n in range(100)]
"""Kiosk ids for the in-memory tests (the line itself does not check whom it asks for: the HQ did)."""


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait until CONDITION holds, or fail naming WHAT (polling: the condition is another task's progress)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


# -- over real mTLS: kiosks -> the HQ's app -> the stand-in center ----------------------------------------


@pytest.fixture
async def hq(
    deployment: Deployment,
    center_server: Server,
    clock: FixedClock,
    hq_database: object,
    identity: Callable[..., ServiceIdentity],
) -> AsyncIterator[tuple[Server, ChallengeCoalescer]]:
    """The HQ's app on mTLS, and its challenge line (to see how many asks wait)."""
    app = create_app(deployment, instance=HQ, clock=clock, center_url=center_server.base_url)
    async with Server(app=app, identity=identity(HQ, listen_segment(deployment, HQ))) as server:
        yield server, app.state.challenges


KioskClients = Callable[[str], AbstractAsyncContextManager[ServiceClient]]


@pytest.fixture
def kiosk(hq: tuple[Server, ChallengeCoalescer], identity: Callable[..., ServiceIdentity]) -> KioskClients:
    server, _line = hq

    @asynccontextmanager
    async def open_client(instance: str) -> AsyncIterator[ServiceClient]:
        async with client_session(identity(instance, STORE), expected_role=Role.STOREHQ) as session:
            yield ServiceClient(session=session, base_url=server.base_url, expected_role=Role.STOREHQ)

    return open_client


async def challenge(client: ServiceClient) -> ChallengeAnswer:
    return ChallengeAnswer.model_validate(await client.post_json("/v1/challenges", {}, idempotency_key=None))


async def test_asks_arriving_while_a_call_is_held_leave_in_one_next_call(
    kiosk: KioskClients, hq: tuple[Server, ChallengeCoalescer], center: StandInCenter
) -> None:
    _server, line = hq
    center.challenge_gate = asyncio.Event()
    async with kiosk(KIOSK) as tanashi, kiosk(OTHER_KIOSK) as hibarigaoka:
        first = asyncio.create_task(challenge(tanashi))
        await until(lambda: len(center.challenge_calls) == 1, "the first call")
        callers = [KIOSK, OTHER_KIOSK] * 10
        clients = {KIOSK: tanashi, OTHER_KIOSK: hibarigaoka}
        waiting = [asyncio.create_task(challenge(clients[k])) for k in callers]
        await until(lambda: line.waiting == len(callers), "20 asks waiting at the HQ")
        assert len(center.challenge_calls) == 1  # nothing more left while the call was on the line
        center.challenge_gate.set()
        answers = await asyncio.gather(first, *waiting)

    first_call, next_call = center.challenge_calls
    assert first_call.kiosk_ids == [KIOSK]
    assert Counter(next_call.kiosk_ids) == Counter(callers)
    # Each kiosk got a challenge of its own, the one the center bound to that kiosk.
    values = [answer.challenge for answer in answers]
    assert len(set(values)) == len(values)
    assert [center.issued[value] for value in values] == [KIOSK, *callers]


async def test_an_idle_ask_goes_at_once_and_alone(
    kiosk: KioskClients, hq: tuple[Server, ChallengeCoalescer], center: StandInCenter
) -> None:
    _server, line = hq
    async with kiosk(KIOSK) as client:
        for _ in range(3):
            await challenge(client)
        center.challenge_gate = asyncio.Event()
        held = asyncio.create_task(challenge(client))
        # It reaches the center while no other ask exists: nothing waited for company.
        await until(lambda: len(center.challenge_calls) == 4, "the idle ask's call")
        assert line.waiting == 0
        center.challenge_gate.set()
        await held
    assert [call.kiosk_ids for call in center.challenge_calls] == [[KIOSK]] * 4


async def test_a_failing_call_fails_only_its_asks_and_the_next_call_works(
    kiosk: KioskClients, hq: tuple[Server, ChallengeCoalescer], center: StandInCenter
) -> None:
    _server, line = hq
    center.challenge_gate = asyncio.Event()
    center.refuse_challenges_with = MaintenanceError()
    async with kiosk(KIOSK) as tanashi, kiosk(OTHER_KIOSK) as hibarigaoka:
        refused = asyncio.create_task(challenge(tanashi))
        await until(lambda: len(center.challenge_calls) == 1, "the first call")
        waiting = [asyncio.create_task(challenge(c)) for c in (tanashi, hibarigaoka, hibarigaoka)]
        await until(lambda: line.waiting == len(waiting), "3 asks waiting at the HQ")
        center.challenge_gate.set()
        with pytest.raises(MaintenanceError):  # the center's refusal, as the single call passed it back
            await refused
        answers = await asyncio.gather(*waiting)
    assert [center.issued[a.challenge] for a in answers] == [KIOSK, OTHER_KIOSK, OTHER_KIOSK]
    assert [len(call.kiosk_ids) for call in center.challenge_calls] == [1, 3]


async def test_an_answer_with_the_wrong_number_of_challenges_is_refused(
    kiosk: KioskClients, center: StandInCenter, caplog: pytest.LogCaptureFixture
) -> None:
    center.extra_challenges = 1
    async with kiosk(KIOSK) as client:
        with caplog.at_level(logging.ERROR, logger="yakuba.storehq"), pytest.raises(UpstreamError) as refused:
            await challenge(client)
        assert type(refused.value) is UpstreamError
        assert any("integrity" in record.getMessage() for record in caplog.records)
        center.extra_challenges = 0
        answer = await challenge(client)
    assert center.issued[answer.challenge] == KIOSK


async def test_a_kiosk_that_hangs_up_does_not_break_the_others(
    kiosk: KioskClients, hq: tuple[Server, ChallengeCoalescer], center: StandInCenter
) -> None:
    _server, line = hq
    center.challenge_gate = asyncio.Event()
    async with kiosk(KIOSK) as tanashi, kiosk(OTHER_KIOSK) as hibarigaoka:
        first = asyncio.create_task(challenge(tanashi))
        await until(lambda: len(center.challenge_calls) == 1, "the first call")
        gone = asyncio.create_task(challenge(hibarigaoka))
        staying = asyncio.create_task(challenge(tanashi))
        await until(lambda: line.waiting == 2, "2 asks waiting at the HQ")
        gone.cancel()
        center.challenge_gate.set()
        answers = await asyncio.gather(first, staying)
        with pytest.raises(asyncio.CancelledError):
            await gone
        assert [center.issued[a.challenge] for a in answers] == [KIOSK, KIOSK]
        # The line is still in order for the kiosk that hung up.
        assert center.issued[(await challenge(hibarigaoka)).challenge] == OTHER_KIOSK


# -- the line itself, with the center's contract in memory (exact task interleavings) ----------------------


class HeldCenter:
    """`CenterChallenges` in memory: every call waits until the test releases it; FAIL_WITH fails the next one."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.issued: dict[bytes, str] = {}
        self.hold = True
        self.fail_with: BaseException | None = None
        self.answer_fewer = False
        self._gates: list[asyncio.Event] = []

    async def challenges(self, ask: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        self.calls.append(list(ask.kiosk_ids))
        gate = asyncio.Event()
        self._gates.append(gate)
        if self.hold:
            await gate.wait()
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        kiosk_ids = ask.kiosk_ids[:-1] if self.answer_fewer else ask.kiosk_ids
        answers = []
        for kiosk_id in kiosk_ids:
            value = secrets.token_bytes(32)
            self.issued[value] = kiosk_id
            answers.append(ChallengeAnswer(challenge=value, expires_at="2025-11-26T01:32:00+00:00"))
        return ChallengeBatchAnswer.model_construct(challenges=answers)

    async def release(self, call: int) -> None:
        """Let the CALL-th call (from 1) answer, once it has arrived."""
        await until(lambda: len(self._gates) >= call, f"call {call}")
        self._gates[call - 1].set()


@pytest.fixture
def held() -> HeldCenter:
    return HeldCenter()


@pytest.fixture
async def line(held: HeldCenter) -> AsyncIterator[ChallengeCoalescer]:
    coalescer = ChallengeCoalescer(center=held)
    yield coalescer
    await coalescer.aclose()


def ask(line: ChallengeCoalescer, kiosk_id: str) -> asyncio.Task[ChallengeAnswer]:
    return asyncio.create_task(line.challenge(kiosk_id))


async def settle() -> None:
    """Let every ready task run (they only pass values between futures: a few loop turns are enough)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_at_most_max_challenge_batch_per_call_the_rest_in_the_next(
    line: ChallengeCoalescer, held: HeldCenter
) -> None:
    first = ask(line, KIOSKS[0])
    await settle()
    rest = [ask(line, kiosk_id) for kiosk_id in KIOSKS[1 : MAX_CHALLENGE_BATCH + 7]]
    await settle()
    assert line.waiting == MAX_CHALLENGE_BATCH + 6
    for call in (1, 2, 3):
        await held.release(call)
    answers = await asyncio.gather(first, *rest)
    assert held.calls == [
        KIOSKS[:1],
        KIOSKS[1 : MAX_CHALLENGE_BATCH + 1],
        KIOSKS[MAX_CHALLENGE_BATCH + 1 : MAX_CHALLENGE_BATCH + 7],
    ]
    assert [held.issued[a.challenge] for a in answers] == KIOSKS[: MAX_CHALLENGE_BATCH + 7]


async def test_an_ask_cancelled_while_waiting_is_not_asked_for(line: ChallengeCoalescer, held: HeldCenter) -> None:
    first = ask(line, KIOSKS[0])
    await settle()
    waiting = [ask(line, kiosk_id) for kiosk_id in KIOSKS[1:4]]
    await settle()
    waiting[1].cancel()
    await settle()
    assert line.waiting == 2
    await held.release(1)
    await held.release(2)
    answers = await asyncio.gather(first, waiting[0], waiting[2])
    assert waiting[1].cancelled()
    assert held.calls == [KIOSKS[:1], [KIOSKS[1], KIOSKS[3]]]  # no challenge for a kiosk that hung up
    assert [held.issued[a.challenge] for a in answers] == [KIOSKS[0], KIOSKS[1], KIOSKS[3]]


async def test_an_ask_cancelled_on_the_line_leaves_the_others_their_answers(
    line: ChallengeCoalescer, held: HeldCenter, caplog: pytest.LogCaptureFixture
) -> None:
    first = ask(line, KIOSKS[0])
    await settle()
    gone, staying = ask(line, KIOSKS[1]), ask(line, KIOSKS[2])
    await held.release(1)
    await until(lambda: len(held.calls) == 2, "the second call")
    gone.cancel()
    await held.release(2)
    answers = await asyncio.gather(first, staying)
    assert gone.cancelled()
    assert [held.issued[a.challenge] for a in answers] == [KIOSKS[0], KIOSKS[2]]
    # The next ask finds the line free again.
    held.hold = False
    assert held.issued[(await line.challenge(KIOSKS[3])).challenge] == KIOSKS[3]
    assert held.calls[-1] == [KIOSKS[3]]
    assert not caplog.records


@pytest.mark.parametrize("error", [UpstreamTimeout("no answer in time"), UpstreamError("connection failed")])
async def test_a_failed_call_fails_exactly_its_asks_with_its_error(
    line: ChallengeCoalescer, held: HeldCenter, error: UpstreamError
) -> None:
    first = ask(line, KIOSKS[0])
    await settle()
    failing = [ask(line, kiosk_id) for kiosk_id in KIOSKS[1:4]]
    await settle()
    await held.release(1)
    await until(lambda: len(held.calls) == 2, "the second call")
    later = ask(line, KIOSKS[4])  # arrives while the failing call is on the line
    held.fail_with = error
    await held.release(2)
    await held.release(3)
    assert held.issued[(await first).challenge] == KIOSKS[0]
    for task in failing:
        with pytest.raises(UpstreamError) as raised:
            await task
        assert raised.value is error
    assert held.issued[(await later).challenge] == KIOSKS[4]
    assert held.calls == [KIOSKS[:1], KIOSKS[1:4], KIOSKS[4:5]]


async def test_an_unexpected_error_fails_its_asks_and_the_line_goes_on(
    line: ChallengeCoalescer, held: HeldCenter
) -> None:
    held.hold = False
    held.fail_with = RuntimeError("a bug in the link")
    with pytest.raises(RuntimeError):
        await line.challenge(KIOSKS[0])
    assert held.issued[(await line.challenge(KIOSKS[1])).challenge] == KIOSKS[1]


async def test_too_few_challenges_fail_every_ask_of_that_call(
    line: ChallengeCoalescer, held: HeldCenter, caplog: pytest.LogCaptureFixture
) -> None:
    first = ask(line, KIOSKS[0])
    await settle()
    short = [ask(line, kiosk_id) for kiosk_id in KIOSKS[1:3]]
    await settle()
    await held.release(1)
    await first
    held.answer_fewer = True
    with caplog.at_level(logging.ERROR, logger="yakuba.storehq"):
        await held.release(2)
        outcomes = await asyncio.gather(*short, return_exceptions=True)
    assert all(type(outcome) is UpstreamError for outcome in outcomes)
    assert [r.getMessage() for r in caplog.records] == [
        "integrity: the center answered 1 challenges for 2 asks; none handed out"
    ]


async def test_closing_fails_the_waiting_and_the_asks_on_the_line(held: HeldCenter) -> None:
    line = ChallengeCoalescer(center=held)
    on_line = ask(line, KIOSKS[0])
    await settle()
    waiting = ask(line, KIOSKS[1])
    await settle()
    await line.aclose()
    for task in (on_line, waiting):
        with pytest.raises(UpstreamError):
            await task
    with pytest.raises(UpstreamError):
        await line.challenge(KIOSKS[2])
    assert held.calls == [KIOSKS[:1]]
