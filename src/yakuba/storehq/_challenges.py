"""The store HQ's challenge line: kiosks' asks that arrive while a call is on the line leave together in the next."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from yakuba.errors import UpstreamError, YakubaError
from yakuba.wire.messages import MAX_CHALLENGE_BATCH, ChallengeAnswer, ChallengeBatchAnswer, ChallengeBatchAsk

__all__ = ["CenterChallenges", "ChallengeCoalescer"]

_log = logging.getLogger("yakuba.storehq")


class CenterChallenges(Protocol):
    """The one call the line makes (`yakuba.storehq.service.CenterLink.challenges`)."""

    async def challenges(self, ask: ChallengeBatchAsk) -> ChallengeBatchAnswer:
        """One-time challenges for the kiosks of ASK, one per entry, in its order."""


@dataclass(slots=True, eq=False)
class _Ask:
    """One kiosk's ask: its id, and where its challenge (or its call's error) goes."""

    kiosk_id: str
    answer: asyncio.Future[ChallengeAnswer]


class ChallengeCoalescer:
    """`yakuba.storehq.service.ChallengeLine` over CENTER: at most ONE challenge call on the line at a time.

    Why: every certificate starts with a challenge, and under load many kiosks of a chain ask at once; one
    call and one database transaction at the center for all of them costs about what one costs alone.

    - Nothing is added when idle: an ask that finds the line free leaves at once, alone.
    - Asks that arrive while a call is on the line wait, and leave together in the next call, in the order
      they came, at most MAX_CHALLENGE_BATCH in one call (the rest in the call after).
    - Nothing is asked ahead of need: every entry of a call is a kiosk waiting at that moment. An ask whose
      kiosk hung up before it left is dropped; one whose kiosk hung up while on the line gets a challenge no
      one uses, which expires (CHALLENGE_TTL), as a lost answer's would.
    - Each kiosk gets the challenge of its own entry (the center bound it to that kiosk). A call that fails
      fails exactly the asks that were in it, with the error the call raised (UpstreamError, UpstreamTimeout,
      the center's refusal...), and the next call goes as usual. An answer with another number of
      challenges than asks is an integrity error: UpstreamError for every ask in that call, none handed out.

    The calls are made by a task of this object's own (started by the first ask, ended when none waits), never
    by a kiosk's request: a kiosk that hangs up cancels its own wait and nothing else.
    """

    def __init__(self, *, center: CenterChallenges) -> None:
        self._center = center
        self._waiting: deque[_Ask] = deque()
        self._line: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many asks wait for the next call (those on the line now are not counted)."""
        return sum(1 for ask in self._waiting if not ask.answer.done())

    async def challenge(self, kiosk_id: str) -> ChallengeAnswer:
        """A challenge bound to KIOSK_ID, from the next call to the center (at once if the line is free)."""
        if self._closed:
            raise _shutting_down()
        ask = _Ask(kiosk_id=kiosk_id, answer=asyncio.get_running_loop().create_future())
        self._waiting.append(ask)
        if self._line is None:
            self._line = asyncio.create_task(self._run(), name="yakuba-storehq-challenges")
        try:
            return await ask.answer
        except asyncio.CancelledError:
            # The kiosk hung up: a waiting ask's future is cancelled with it (the line skips it). If its
            # call had failed just before, mark the error seen: nobody is left to be told.
            if ask.answer.done() and not ask.answer.cancelled():
                ask.answer.exception()
            raise

    async def aclose(self) -> None:
        """Refuse new asks and fail the waiting ones and those on the line (the HQ is stopping)."""
        self._closed = True
        line = self._line
        if line is not None:
            line.cancel()
            await asyncio.wait([line])  # never raises: our own cancellation, if any, still reaches us
        left = list(self._waiting)
        self._waiting.clear()
        _fail(left, _shutting_down())

    async def _run(self) -> None:
        """Call the center while asks wait, one call at a time; end when none waits (the next ask starts anew).

        Taking the last batch and clearing `_line` happen with no await between them, so an ask never finds
        the line busy with a task that will not see it.
        """
        try:
            while batch := self._take():
                await self._call(batch)
        finally:
            self._line = None

    def _take(self) -> list[_Ask]:
        """The next call's asks: the oldest waiting, at most MAX_CHALLENGE_BATCH, none whose kiosk hung up."""
        batch: list[_Ask] = []
        while self._waiting and len(batch) < MAX_CHALLENGE_BATCH:
            ask = self._waiting.popleft()
            if not ask.answer.done():
                batch.append(ask)
        return batch

    async def _call(self, batch: list[_Ask]) -> None:
        """One call for BATCH: each ask gets its own entry's challenge, or all of them the call's error."""
        try:
            answer = await self._center.challenges(ChallengeBatchAsk(kiosk_ids=[ask.kiosk_id for ask in batch]))
            if len(answer.challenges) != len(batch):
                _log.error(
                    "integrity: the center answered %d challenges for %d asks; none handed out",
                    len(answer.challenges),
                    len(batch),
                )
                raise UpstreamError("the center answered another number of challenges than were asked for")
        except asyncio.CancelledError:
            _fail(batch, _shutting_down())
            raise
        except Exception as exc:  # whatever the call raised is each ask's error; the line itself goes on
            code = exc.code if isinstance(exc, YakubaError) else type(exc).__name__
            _log.info("challenge call for %d asks failed: %s", len(batch), code)
            _fail(batch, exc)
            return
        for ask, challenge in zip(batch, answer.challenges, strict=True):
            if not ask.answer.done():  # a kiosk that hung up on the line: its challenge expires unused
                ask.answer.set_result(challenge)


def _fail(asks: list[_Ask], error: BaseException) -> None:
    for ask in asks:
        if not ask.answer.done():
            ask.answer.set_exception(error)


def _shutting_down() -> UpstreamError:
    return UpstreamError(
        "the store HQ is stopping", ja="店舗本部のサーバーが停止中です。しばらくしてからやり直してください。"
    )
