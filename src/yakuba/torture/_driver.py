"""The run's kiosks: many at once, each one resident at a time, through the real chain and the fault proxies."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from yakuba.clock import OffsetClock
from yakuba.errors import YakubaError
from yakuba.kiosk.service import Choice, FeeQuote, HqLink, Kiosk, run_transaction
from yakuba.torture._deployment import RunDeployment
from yakuba.torture._profiles import FaultProfile
from yakuba.torture._town import TortureCard
from yakuba.wire.messages import (
    ChallengeAnswer,
    CompletionAnswer,
    CompletionReport,
    HistoryAnswer,
    HistorySubmission,
    IssuanceAnswer,
    IssuanceSubmission,
)

__all__ = ["Attempt", "DriveResult", "drive"]

TWO_COPIES_SHARE = 0.1
"""Share of requests for two copies (both copies must be the same person's, each charged)."""


@dataclass(slots=True, kw_only=True)
class Attempt:
    """One resident's transaction as the kiosk saw it."""

    index: int
    kiosk: str
    card: TortureCard
    kind: str
    copies: int
    transaction_id: str | None = None
    outcome: str = "error"
    """printed, refused (a YakubaError: nothing charged), or error (anything else)."""
    code: str | None = None
    charged_yen: int = 0
    quoted_serial: str | None = None
    quoted_total_yen: int = 0
    printed: tuple[Path, ...] = ()
    duplicated: bool = False
    seconds: float = 0.0


@dataclass(slots=True, kw_only=True)
class DriveResult:
    attempts: list[Attempt]
    seconds: float
    duplicate_answers_differ: list[str] = field(default_factory=list)
    """Transaction ids whose two simultaneous submissions were both answered, with different envelopes."""


class _DoubleTapLink:
    """The kiosk's link to HQ that, for the transaction it is told to, sends the submission and the completion
    report twice at once (a double tap, a retry racing the first try) and keeps the first answer."""

    def __init__(self, inner: HqLink, result: DriveResult) -> None:
        self._inner = inner
        self._result = result
        self.double = False
        self.transaction_id: str | None = None

    async def challenge(self) -> ChallengeAnswer:
        return await self._inner.challenge()

    async def submit(self, submission: IssuanceSubmission) -> IssuanceAnswer:
        self.transaction_id = submission.request.transaction_id
        send = self._inner.submit
        if not self.double:
            return await send(submission)
        results = await asyncio.gather(send(submission), send(submission), return_exceptions=True)
        answers = [r for r in results if isinstance(r, IssuanceAnswer)]
        if len(answers) == 2 and answers[0].envelope != answers[1].envelope:
            self._result.duplicate_answers_differ.append(submission.request.transaction_id)
        if answers:
            return answers[0]
        raise next(r for r in results if isinstance(r, BaseException))

    async def complete(self, report: CompletionReport) -> CompletionAnswer:
        send = self._inner.complete
        if not self.double:
            return await send(report)
        results = await asyncio.gather(send(report), send(report), return_exceptions=True)
        answers = [r for r in results if isinstance(r, CompletionAnswer)]
        if answers:
            return answers[0]
        raise next(r for r in results if isinstance(r, BaseException))

    async def history(self, submission: HistorySubmission) -> HistoryAnswer:
        return await self._inner.history(submission)


async def drive(
    run: RunDeployment,
    cards: list[TortureCard],
    *,
    requests: int | None,
    concurrency: int,
    profile: FaultProfile,
    seed: int,
    out: Path,
    duration_s: float | None = None,
    rate: float | None = None,
    on_done: Callable[[Attempt], None] | None = None,
) -> DriveResult:
    """Run REQUESTS transactions (or as many as fit DURATION_S, at RATE per second when given) from CONCURRENCY
    kiosks at once, each with a free card; every printed copy is taken into OUT/<transaction id>/."""
    from yakuba.kiosk.terminal import open_kiosk
    from yakuba.pki.card import VirtualCardReader

    rng = random.Random(seed)  # noqa: S311 - choosing test traffic, not a secret
    result = DriveResult(attempts=[], seconds=0.0)
    kiosk_names = run.kiosks[: max(concurrency, 1)]
    free_cards: asyncio.Queue[TortureCard] = asyncio.Queue()
    for card in rng.sample(cards, len(cards)):
        free_cards.put_nowait(card)
    async with contextlib.AsyncExitStack() as stack:
        kiosks: list[tuple[Kiosk, _DoubleTapLink]] = []
        for position, name in enumerate(kiosk_names):
            skew = dt.timedelta(0)
            if profile.clock_skew_s and position % 3 == 1:
                skew = dt.timedelta(seconds=profile.clock_skew_s * (1 if position % 2 else -1))
            kiosk = await stack.enter_async_context(
                open_kiosk(run.dep, instance=name, clock=OffsetClock(run.clock_offset + skew))
            )
            link = _DoubleTapLink(kiosk.hq, result)
            kiosk.hq = link
            kiosks.append((kiosk, link))
        started = time.monotonic()
        counter = iter(range(requests if requests is not None else 10**9))

        async def worker(kiosk: Kiosk, link: _DoubleTapLink) -> None:
            for index in counter:
                now = time.monotonic() - started
                if duration_s is not None and now >= duration_s:
                    return
                if rate is not None:
                    await asyncio.sleep(max(0.0, index / rate - now))
                    if duration_s is not None and index / rate >= duration_s:
                        return  # its slot falls after the end of the run
                card = await free_cards.get()
                try:
                    kind = card.refusal_kind or rng.choice(card.kinds)
                    copies = 2 if rng.random() < TWO_COPIES_SHARE and card.refusal_kind is None else 1
                    attempt = Attempt(index=index, kiosk=kiosk.kiosk_id, card=card, kind=kind, copies=copies)
                    link.double = attempt.duplicated = rng.random() < profile.duplicate_probability
                    link.transaction_id = None
                    began = time.monotonic()
                    quotes: list[FeeQuote] = []
                    try:
                        receipt, taken = await run_transaction(
                            kiosk,
                            reader=VirtualCardReader.open(run.dep, path=card.path),
                            choice=Choice(basis="residence", city=card.city_code, kind=kind, options={}, copies=copies),
                            pin=card.pin,
                            on_quote=quotes.append,
                            take_to=out / f"{index:06d}",
                        )
                        attempt.outcome = receipt.outcome.value
                        attempt.charged_yen = receipt.charged_yen
                        attempt.printed = taken
                        attempt.transaction_id = receipt.transaction_id
                    except YakubaError as exc:
                        attempt.outcome, attempt.code = "refused", exc.code
                    except Exception as exc:  # recorded and counted: the verdict shows every unexpected error
                        attempt.outcome, attempt.code = "error", type(exc).__name__
                    if quotes:
                        quote = quotes[0]
                        attempt.quoted_serial = quote.document_serial
                        attempt.quoted_total_yen = quote.total_yen
                    attempt.transaction_id = attempt.transaction_id or link.transaction_id
                    attempt.seconds = time.monotonic() - began
                    result.attempts.append(attempt)
                    if on_done is not None:
                        on_done(attempt)
                finally:
                    free_cards.put_nowait(card)

        await asyncio.gather(*(worker(kiosk, link) for kiosk, link in kiosks))
        result.seconds = time.monotonic() - started
    return result
