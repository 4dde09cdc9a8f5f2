"""The store HQ's completion reporter: closed billing lines go to the center in batches, off the kiosk's path."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import pydantic

from yakuba.clock import Clock
from yakuba.errors import YakubaError
from yakuba.storehq.service import BillingLedger, BillingLine, CenterLink, completion_of
from yakuba.wire import log_unexpected
from yakuba.wire.messages import (
    BATCH_ID_PREFIX,
    MAX_COMPLETION_BATCH,
    CompletionBatch,
    CompletionBatchAnswer,
    TaggedCompletion,
)

__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_MIN_S",
    "LINGER_S",
    "MAX_HELD",
    "POLL_INTERVAL_S",
    "STALE_AFTER",
    "CompletionReporter",
]

_log = logging.getLogger("yakuba.storehq.reporter")

POLL_INTERVAL_S = 2.0
"""How often the ledger is swept for closed lines this process does not hold: left by a crash or a restart,
or by another worker process of the HQ that cannot deliver them. Short enough that a fact left behind moves
on within seconds; one indexed query, so cheap."""

STALE_AFTER = dt.timedelta(seconds=10)
"""A line closed this long ago and still unreported is taken up by any worker's sweep. Its own worker reports
it within milliseconds, so two workers sharing one database rarely send one line twice (that is safe: the
center answers ``closed=false``, but it doubles the work down the chain)."""

LINGER_S = 0.005
"""How long a woken reporter waits for more lines when it holds less than a full batch. Under load lines also
gather while a batch is in flight, so batches grow with the load by themselves; this only keeps a burst of
reports from leaving as batches of one. The kiosk no longer waits for any of it."""

BACKOFF_MIN_S = 0.5
"""The first pause after a failed delivery (the center, or for one line its city, could not be reached)."""

BACKOFF_MAX_S = 30.0
"""The longest pause: an outage of hours costs a few calls a minute, and a city back is heard from soon."""

MAX_HELD = 10_000
"""Lines held in memory for sending (an outage of a busy chain); beyond it they wait in the ledger for a
sweep, so memory stays bounded however long the center is away."""

_INVALID = "invalid_completion"
"""The refusal recorded for a line that cannot even be put in a batch (it would otherwise block the others)."""


def _delay(failures: int) -> float:
    """Exponential backoff: BACKOFF_MIN_S after the first failure, doubling up to BACKOFF_MAX_S."""
    return min(BACKOFF_MAX_S, BACKOFF_MIN_S * 2.0 ** max(0, failures - 1))


@dataclass(slots=True)
class _Held:
    """A closed line waiting to be sent, with its own backoff for a city that could not be reached."""

    line: BillingLine
    failures: int = 0
    due: float = 0.0
    """`time.monotonic()` from which it may be sent again."""


class CompletionReporter:
    """Sends the closed billing lines of one HQ process to the center in batches until the center has them
    (implements `yakuba.storehq.service.CompletionOutbox`).

    An asyncio task owned by the HQ app's lifespan: `start` once the ledger and the session to the center are
    up, `stop` before the session closes. The lines are durable before they are held here, so a stop, a
    cancelled send or a crash loses nothing: the next sweep (here or in another process) finds them.

    Each round:

    1. Wait for a line (`enqueue`, from `StoreHq.relay_completion`), a line due again, or the sweep time.
    2. Linger LINGER_S when less than a full batch is waiting and a line has just arrived.
    3. Sweep the ledger every POLL_INTERVAL_S: at start every unreported line (what a crash of this process
       left), then those closed before STALE_AFTER (what another process could not deliver).
    4. Send up to MAX_COMPLETION_BATCH due lines, oldest first, under a new batch id.
    5. Per result: ``closed`` (true or false: the center has it) -> marked reported; a final error -> marked
       refused with its code and a warning (an operator must look; it is never sent again); a transient
       error (its city could not be reached) -> kept, and that line backs off.
    6. The whole call failing (the center unreachable or refusing the batch, or an answer that is not for
       this batch: an integrity error, nothing is marked from it) -> everything kept, the reporter backs off.
       Any success resets the backoff. Nothing unexpected ends the loop: it is logged and backed off.
    """

    def __init__(
        self,
        *,
        ledger: BillingLedger,
        center: CenterLink,
        clock: Clock,
        batch_size: int = MAX_COMPLETION_BATCH,
        linger_s: float = LINGER_S,
        poll_interval_s: float = POLL_INTERVAL_S,
        stale_after: dt.timedelta = STALE_AFTER,
        max_held: int = MAX_HELD,
    ) -> None:
        if not 1 <= batch_size <= MAX_COMPLETION_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_COMPLETION_BATCH}")
        self._ledger = ledger
        self._center = center
        self._clock = clock
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._poll_interval_s = poll_interval_s
        self._stale_after = stale_after
        self._max_held = max_held
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._wake = asyncio.Event()
        self._failures = 0
        self._paused_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self.batches_sent = 0
        """Batches the center answered (for measuring the batch size against `lines_reported`)."""
        self.lines_reported = 0
        """Lines the center answered, accepted or refused."""

    @property
    def held(self) -> int:
        """Lines waiting in this process to be sent."""
        return len(self._held)

    def enqueue(self, line: BillingLine) -> None:
        """Report LINE soon (step 1). Never blocks; past MAX_HELD the line waits in the ledger for a sweep."""
        if line.transaction_id in self._held or len(self._held) < self._max_held:
            self._held[line.transaction_id] = _Held(line=line)
        self._wake.set()

    def start(self) -> None:
        """Start the reporting task on the running event loop (once)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="yakuba-completion-reporter")

    async def stop(self) -> None:
        """Cancel the task and wait for it; a batch in flight stays unreported in the ledger (safe: it is sent
        again later and the center answers ``closed=false`` for what it already has)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        next_sweep = 0.0  # sweep at once: whatever a crash of this process left
        swept = False
        while True:
            try:
                arrived = await self._wait(next_sweep)  # 1
                if arrived and self._linger_s and self._due_count() < self._batch_size:
                    await asyncio.sleep(self._linger_s)  # 2
                if time.monotonic() >= next_sweep:  # 3
                    added = await self._sweep(everything=not swept)
                    swept = True
                    # A full sweep of new lines (a backlog past MAX_HELD): sweep again after this send.
                    next_sweep = time.monotonic() + (0.0 if added >= self._batch_size else self._poll_interval_s)
                if self._due_count():
                    await self._send()  # 4-6
            except asyncio.CancelledError:
                raise
            except YakubaError as exc:  # the ledger failed (a lock, a full disk): try again later
                self._failed()
                _log.warning(
                    "completion reporter: %s [%s]; next try in %.1f s",
                    type(exc).__name__,
                    exc.code,
                    _delay(self._failures),
                )
            except Exception as exc:  # never end the loop: the facts must still go out
                log_unexpected(exc, _log)
                self._failed()

    async def _wait(self, next_sweep: float) -> bool:
        """Until a line arrives or is due again, or the sweep is due; whether a line arrived. While backing off
        after a failed call nothing is sent, whatever arrives."""
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        now = time.monotonic()
        due = min((held.due for held in self._held.values()), default=next_sweep)
        timeout = min(next_sweep, due) - now
        if timeout > 0 and not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        arrived = self._wake.is_set()
        self._wake.clear()  # whatever arrives from here on sets it again and is seen next round
        return arrived

    def _due_count(self) -> int:
        now = time.monotonic()
        return sum(1 for held in self._held.values() if held.due <= now)

    async def _sweep(self, *, everything: bool) -> int:
        """Take up the ledger's unreported lines (all, or the stale ones); how many were not held yet."""
        closed_before = None if everything else self._clock.now() - self._stale_after
        lines = await asyncio.to_thread(self._ledger.unreported, self._batch_size, closed_before=closed_before)
        added = 0
        # Oldest first, ahead of what is held: a line left behind must not starve under a steady load.
        for line in reversed(lines):
            if line.transaction_id not in self._held:
                if len(self._held) >= self._max_held:
                    continue
                self._held[line.transaction_id] = _Held(line=line)
                added += 1
            self._held.move_to_end(line.transaction_id, last=False)
        return added

    async def _send(self) -> None:
        now = time.monotonic()
        lines = [held.line for held in self._held.values() if held.due <= now][: self._batch_size]
        completions: list[TaggedCompletion] = []
        invalid: list[str] = []
        for line in lines:
            try:
                completions.append(completion_of(line))
            except (ValueError, pydantic.ValidationError):
                invalid.append(line.transaction_id)
        if invalid:
            for tx in invalid:
                _log.error("completion tx=%s cannot be reported (its line does not form a report)", tx)
            await self._record([], [(tx, _INVALID) for tx in invalid])
        if not completions:
            return
        batch = CompletionBatch(batch_id=BATCH_ID_PREFIX + secrets.token_hex(16), completions=completions)
        try:
            answer = await self._center.complete_batch(batch)
        except YakubaError as exc:  # 6
            self._failed()
            _log.warning(
                "completion batch of %d not delivered [%s]; kept, next try in %.1f s",
                len(completions),
                exc.code,
                _delay(self._failures),
            )
            return
        if not answer.matches(batch):  # 6
            self._failed()
            _log.error(
                "integrity: the center answered batch %s with %d results for batch %s of %d; nothing marked",
                answer.batch_id,
                len(answer.results),
                batch.batch_id,
                len(completions),
            )
            return
        self._failures, self._paused_until = 0, 0.0
        await self._settle(answer)  # 5

    async def _settle(self, answer: CompletionBatchAnswer) -> None:
        reported = [r.transaction_id for r in answer.results if r.closed is not None]
        refused = [(r.transaction_id, r.error) for r in answer.results if r.error is not None and not r.retry]
        retried = [r for r in answer.results if r.error is not None and r.retry]
        await self._record(reported, refused)
        for tx, code in refused:
            _log.warning("completion tx=%s refused by the center for good [%s]; kept for an operator", tx, code)
        now = time.monotonic()
        for result in retried:
            held = self._held.get(result.transaction_id)
            if held is not None:
                held.failures += 1
                held.due = now + _delay(held.failures)
        if retried:
            codes = sorted({r.error or "" for r in retried})
            _log.warning("%d completions not delivered by their city %s; each retried later", len(retried), codes)
        self.batches_sent += 1
        self.lines_reported += len(reported) + len(refused)
        _log.debug(
            "completion batch %s: %d reported, %d refused, %d retried",
            answer.batch_id,
            len(reported),
            len(refused),
            len(retried),
        )

    async def _record(self, reported: Sequence[str], refused: Sequence[tuple[str, str]]) -> None:
        """Mark the answered lines in one worker thread; only then let them go (a failed write keeps them held,
        and sending them again is safe)."""
        at = self._clock.now()

        def write() -> None:
            self._ledger.mark_reported_many(reported, at=at)
            for tx, code in refused:
                self._ledger.mark_refused(tx, code, at=at)

        await asyncio.to_thread(write)
        for tx in [*reported, *(tx for tx, _ in refused)]:
            self._held.pop(tx, None)

    def _failed(self) -> None:
        self._failures += 1
        self._paused_until = time.monotonic() + _delay(self._failures)
