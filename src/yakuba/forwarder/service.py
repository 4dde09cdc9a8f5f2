"""The forwarding server's logic: route each request of its city to the issuer holding the kind; keep nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol

from yakuba.clock import JST, Clock
from yakuba.errors import UpstreamError, YakubaError
from yakuba.forwarder.errors import KindNotOfferedError, WrongCityError
from yakuba.forwarder.routing import SYSTEM_OF_KIND
from yakuba.wire.batches import batch_tally, send_batch_on
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    HistoryAnswer,
    RelayedIssuanceAnswer,
    RoutedSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
)

__all__ = ["HISTORY_KIND", "OUTCOME_ANSWERED", "OUTCOME_ISSUED", "Counters", "ForwarderService", "IssuerLink"]

_log = logging.getLogger("yakuba.forwarder")

OUTCOME_ISSUED = "issued"
"""The outcome counted for an issuance the issuer answered; refusals count under their error code."""

OUTCOME_ANSWERED = "answered"
"""The outcome counted for a history request every issuer answered."""

HISTORY_KIND = "history"
"""The counter kind of residents' history requests (not a certificate kind: nothing is issued or charged)."""


class IssuerLink(Protocol):
    """One issuer of the city, reached over the backbone (yakuba.forwarder.issuer_link over mTLS)."""

    async def submit(self, submission: RoutedSubmission) -> RelayedIssuanceAnswer: ...
    async def complete_batch(self, batch: CompletionBatch) -> CompletionBatchAnswer: ...
    async def history(self, submission: TaggedHistorySubmission) -> HistoryAnswer: ...


class Counters(Protocol):
    """Requests per (day, kind, outcome): the only thing the forwarder stores (yakuba.forwarder.store)."""

    def count(self, *, day: dt.date, kind: str, outcome: str) -> None: ...

    def count_many(self, *, day: dt.date, counts: Mapping[tuple[str, str], int]) -> None:
        """Add each number to its (kind, outcome) counter of DAY, all in one write."""


class ForwarderService:
    """The city's forwarding server (転送サーバ): one process may serve any number of requests at once, since
    it holds no state but its links and the counters.

    Whether the card is known here is not the forwarder's question: the issuer holds the card bindings and
    the 利用登録 and answers that itself (card_not_registered); the forwarder passes that refusal back as it
    came, like every answer, so it never needs (or sees) the serial-to-person mapping.
    """

    def __init__(
        self,
        *,
        city_code: str,
        links: Mapping[str, IssuerLink],
        counters: Counters,
        clock: Clock,
    ) -> None:
        self._city = city_code
        self._links = dict(links)
        self._counters = counters
        self._clock = clock

    @property
    def city_code(self) -> str:
        return self._city

    def _route(self, *, city: str, kind: str, transaction_id: str) -> IssuerLink:
        """1. The request is for this city (a misrouted request is refused, never passed on).
        2. The kind is one the routing table knows and one of this city's issuers holds."""
        if city != self._city:
            _log.warning("refused tx=%s: for city %s, this forwarder serves %s", transaction_id, city, self._city)
            raise WrongCityError(f"this forwarder serves city {self._city}, not {city}")
        system = SYSTEM_OF_KIND.get(kind)
        link = self._links.get(system) if system is not None else None
        if link is None:
            raise KindNotOfferedError(f"no issuer of city {self._city} holds {kind!r}")
        return link

    async def forward_issuance(self, submission: RoutedSubmission) -> RelayedIssuanceAnswer:
        """Pass SUBMISSION to the issuer of its kind and its answer back, untouched (the envelope as the
        issuer's base64 text: the forwarder cannot open it, so it never decodes it).

        1-2. Route (see `_route`); the request is forwarded unchanged, so the issuer can verify the card
             signature itself.
        3.   The answer must be for this very transaction (a crossed answer, the Kawasaki incident, is
             refused and logged as an integrity alert rather than passed to the wrong kiosk).
        4.   Count the outcome; a counting failure never fails an issuance already made.
        """
        request = submission.request
        started = time.perf_counter()
        try:
            link = self._route(city=request.city, kind=request.kind, transaction_id=request.transaction_id)
            answer = await link.submit(submission)
            if answer.transaction_id != request.transaction_id:
                _log.error("integrity: answer for another transaction on tx=%s; refused", request.transaction_id)
                raise UpstreamError("the issuer answered for another transaction")
        except YakubaError as exc:
            await self._count(request.kind, exc.code)
            _log.info("tx=%s kind=%s outcome=%s", request.transaction_id, request.kind, exc.code)
            raise
        await self._count(request.kind, OUTCOME_ISSUED)
        _log.info(
            "tx=%s kind=%s outcome=%s ms=%.1f",
            request.transaction_id,
            request.kind,
            OUTCOME_ISSUED,
            (time.perf_counter() - started) * 1000,
        )
        return answer

    async def forward_completions(self, batch: CompletionBatch) -> CompletionBatchAnswer:
        """Pass each kiosk's outcome in BATCH to the issuer that issued it (routed as the issuance was), with one
        exchange per issuer, and count it.

        1-2. Each report is routed on its own, as its issuance was (`_route`): one for another city or for a
             kind no issuer of this city holds gets that error with retry=false, and never refuses the others.
        3.   The others go to their issuer as ONE batch per issuer, under the same batch id, the issuers at once.
        4.   An issuer that cannot be reached or fails the whole batch, or that answers results that do not
             `.matches` the batch it was sent (an integrity error, logged as such: an issuer mixing up batches
             must never have its results taken for another's), gets retry=true with the error code for each
             report sent to it: the center changes nothing for them and the HQ sends them again.
        5.   An issuer's results are passed back as they came (error codes and retry flags).
        6.   Count every outcome (`_completion_counts`: an error under its code, a report that closed its
             transaction under its outcome, a repeated one not at all), in one counter write; a counting failure
             never fails the batch.
        The answer has exactly one result per report, in the batch's order.
        """
        results: dict[str, CompletionResult] = {}
        per_issuer: dict[IssuerLink, list[TaggedCompletion]] = {}
        for completion in batch.completions:  # 1-2
            tx = completion.transaction_id
            try:
                link = self._route(city=completion.city, kind=completion.kind, transaction_id=tx)
            except YakubaError as exc:
                results[tx] = CompletionResult(transaction_id=tx, error=exc.code)
                continue
            per_issuer.setdefault(link, []).append(completion)
        replies = await asyncio.gather(  # 3-5
            *(
                self._complete_at_issuer(link, CompletionBatch(batch_id=batch.batch_id, completions=items))
                for link, items in per_issuer.items()
            )
        )
        for reply in replies:
            results.update((result.transaction_id, result) for result in reply)
        ordered = [results[c.transaction_id] for c in batch.completions]
        pairs = zip(batch.completions, ordered, strict=True)
        await self._count_many(_completion_counts((c, r.closed, r.error) for c, r in pairs))  # 6
        _log.info(
            "completion batch %s: reports=%d issuers=%d refused=%d to_retry=%d",
            batch.batch_id,
            len(ordered),
            len(per_issuer),
            *batch_tally(ordered),
        )
        return CompletionBatchAnswer(batch_id=batch.batch_id, results=ordered)

    async def _complete_at_issuer(self, link: IssuerLink, batch: CompletionBatch) -> list[CompletionResult]:
        """Steps 3-5 of `forward_completions` for one issuer: its results, or retry=true for every report."""
        return await send_batch_on(link.complete_batch, batch, to="an issuer", log=_log)

    async def forward_history(self, submission: TaggedHistorySubmission) -> HistoryAnswer:
        """Ask EVERY issuer of the city for its part of the resident's history and return all the envelopes.

        1. The request is for this city (a misrouted request is refused, never passed on).
        2. Send it unchanged to each issuer at once: each verifies the card itself and seals its part to the
           kiosk's key, so the forwarder reads nothing.
        3. Every issuer must answer, for this very transaction, with one envelope: a missing part would show
           the resident a history without some of their certificates, so any failure fails the whole request
           (the first error, as the issuer gave it); a crossed answer is an integrity alert.
        4. Count the request (kind `history`), never who asked.
        """
        request = submission.request
        try:
            if request.city != self._city:  # 1
                _log.warning("refused history tx=%s: for city %s", request.transaction_id, request.city)
                raise WrongCityError(f"this forwarder serves city {self._city}, not {request.city}")
            if not self._links:
                raise KindNotOfferedError(f"city {self._city} has no issuer")
            results = await asyncio.gather(  # 2
                *(link.history(submission) for link in self._links.values()), return_exceptions=True
            )
            envelopes: list[bytes] = []
            for result in results:  # 3
                if isinstance(result, BaseException):
                    if isinstance(result, YakubaError):
                        raise result
                    raise UpstreamError(f"an issuer failed ({type(result).__name__})") from result
                if result.transaction_id != request.transaction_id or len(result.envelopes) != 1:
                    _log.error("integrity: history answer for another transaction on tx=%s", request.transaction_id)
                    raise UpstreamError("an issuer answered for another transaction")
                envelopes += result.envelopes
        except YakubaError as exc:
            await self._count(HISTORY_KIND, exc.code)  # 4
            raise
        await self._count(HISTORY_KIND, OUTCOME_ANSWERED)
        _log.info("history tx=%s issuers=%d", request.transaction_id, len(envelopes))
        return HistoryAnswer(transaction_id=request.transaction_id, envelopes=envelopes)

    async def _count_many(self, counts: Mapping[tuple[str, str], int]) -> None:
        if not counts:
            return
        day = self._clock.now().astimezone(JST).date()
        try:
            await asyncio.to_thread(self._counters.count_many, day=day, counts=counts)
        except YakubaError as exc:
            _log.warning("counters not updated (%s)", exc.code)

    async def _count(self, kind: str, outcome: str) -> None:
        day = self._clock.now().astimezone(JST).date()
        try:
            # The store is synchronous (a short upsert); keep it off the event loop.
            await asyncio.to_thread(self._counters.count, day=day, kind=kind, outcome=outcome)
        except YakubaError as exc:
            _log.warning("counter not updated (%s)", exc.code)


def _completion_counts(
    outcomes: Iterable[tuple[TaggedCompletion, bool | None, str | None]],
) -> Counter[tuple[str, str]]:
    """Counts per (kind, outcome) of completions, each given with closed or its error code: an error counts
    under its code (prefixed, apart from the issuances' refusals), a report that closed its transaction under
    its outcome, a repeated one not at all (it was counted when it closed)."""
    counts: Counter[tuple[str, str]] = Counter()
    for completion, closed, error in outcomes:
        if error is not None:
            counts[(completion.kind, f"completion_{error}")] += 1
        elif closed:
            counts[(completion.kind, completion.outcome.value)] += 1
    return counts
