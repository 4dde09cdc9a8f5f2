"""The kiosks of a run: virtual kiosks, each with its own mTLS identity and HQ link, issuing 住民票の写し through
the whole chain at a chosen rate or flat out.

Each transaction is the kiosk's protocol (yakuba.kiosk.service), step for step: a one-time challenge from HQ,
a fresh transaction key, the request, the card's signature over challenge + request digest + kiosk id, the
submission with its idempotency key, the envelope opened with the transaction key under its binding, and the
completion report. The latency is measured from the challenge request to the opened envelope.

Two things a real kiosk does are kept off the measured cores, because in the field they run on the kiosk's
and the card's own hardware, not on the central system's: the card's chip is emulated in memory after one real
PIN check per card (the virtual card's scrypt PIN check costs ~50 ms of CPU), and the kiosk's full PDF
verification (pyHanko) is done after the run on a sample of the documents (`verify_every`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from yakuba.bench._town import BenchCard, BenchTown
from yakuba.clock import Clock
from yakuba.errors import CardTamperedError, YakubaError
from yakuba.kiosk.hq_client import HqClient, open_hq_client
from yakuba.kiosk.service import SEALING_PURPOSE
from yakuba.pki._cardfile import VirtualChip, card_transaction
from yakuba.pki._layout import KeyLayout
from yakuba.pki.card import VirtualCardReader
from yakuba.wire.card_auth import card_auth_digest
from yakuba.wire.digest import request_digest
from yakuba.wire.messages import Basis, CompletionReport, IssuanceRequest, IssuanceSubmission, Outcome
from yakuba.wire.sealing import SealingBinding, TransactionKey, card_fingerprint

__all__ = ["Drive", "EmulatedCard", "KioskFleet", "Transaction"]

KIND = "juminhyo"
"""住民票の写し: the certificate issued most often."""


class EmulatedCard:
    """A resident's card as its chip answers: the auth certificate, and signatures with its key.

    `insert` checks the PIN once on the real virtual card (VirtualCardReader, scrypt and wrong-PIN counter
    included) and then holds the card's key in memory, as the chip holds it on its own hardware.
    """

    __slots__ = ("_key", "certificate", "city_code", "fingerprint")

    def __init__(self, *, certificate: bytes, key: rsa.RSAPrivateKey, city_code: str) -> None:
        self.certificate = certificate
        self.city_code = city_code
        self.fingerprint = card_fingerprint(certificate)
        self._key = key

    @classmethod
    def insert(cls, town: BenchTown, card: BenchCard) -> EmulatedCard:
        dep = town.dep
        reader = VirtualCardReader.open(dep, path=card.path)
        try:
            reader.select_jpki_ap()
            certificate = reader.read_auth_certificate()
            reader.verify_pin(card.pin)
        finally:
            reader.end_session()
        layout, chip = KeyLayout.of(dep.key_dir), VirtualChip.from_key_dir(dep.key_dir)
        with card_transaction(card.path, layout=layout, chip=chip) as opened:
            key = serialization.load_der_private_key(opened.body.private_key_der, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CardTamperedError()
        return cls(certificate=certificate, key=key, city_code=card.city_code)

    def sign_digest(self, digest: bytes) -> bytes:
        """RSA PKCS#1 v1.5 over the SHA-256 DigestInfo, as the card signs."""
        return self._key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


@dataclass(frozen=True, slots=True)
class Transaction:
    """One kiosk transaction as the driver saw it (times in perf_counter seconds)."""

    kiosk: str
    city: str
    started: float
    latency: float
    pages: int = 0
    error: str | None = None


@dataclass(slots=True)
class _Kiosk:
    instance: str
    hq: HqClient
    cards: list[EmulatedCard]
    turn: int = 0

    def next_card(self) -> EmulatedCard:
        card = self.cards[self.turn % len(self.cards)]
        self.turn += 1
        return card


@dataclass(slots=True)
class Drive:
    """What a drive collected: every transaction, the sampled documents, arrivals that found no free kiosk."""

    transactions: list[Transaction] = field(default_factory=list)
    documents: list[bytes] = field(default_factory=list)
    waited_for_kiosk: int = 0
    not_started: int = 0
    """Arrivals due before the end that no kiosk was free to start (the chain was saturated)."""


class KioskFleet:
    """KIOSKS virtual kiosks sharing CARDS (each card belongs to one kiosk), driven in this event loop."""

    def __init__(self, kiosks: list[_Kiosk], *, clock: Clock, verify_every: int) -> None:
        self._kiosks = kiosks
        self._clock = clock
        self._verify_every = max(1, verify_every)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, town: BenchTown, cards: list[EmulatedCard], *, kiosks: int, clock: Clock, verify_every: int
    ) -> AsyncIterator[KioskFleet]:
        """Open the HQ links (one mTLS session per kiosk, with its own certificate) of the first KIOSKS kiosks."""
        chosen = town.kiosks[:kiosks]
        if len(cards) < len(chosen):
            raise ValueError("every kiosk needs at least one card")
        async with contextlib.AsyncExitStack() as stack:
            fleet: list[_Kiosk] = []
            for index, instance in enumerate(chosen):
                hq = await stack.enter_async_context(open_hq_client(town.dep, instance=instance))
                fleet.append(_Kiosk(instance=instance, hq=hq, cards=cards[index :: len(chosen)]))
            yield cls(fleet, clock=clock, verify_every=verify_every)

    async def probe(self) -> dict[str, int]:
        """One transaction with every card (kiosks in parallel, each its own cards in turn); a card refused now
        is put aside for the run (a resident whose data does not fit the certificate, say), and the refusals are
        returned by code. It also warms every connection and cache along the chain."""
        refused: dict[str, int] = {}

        async def check(kiosk: _Kiosk) -> None:
            kept = []
            for card in kiosk.cards:
                try:
                    await self._issue(kiosk, card)
                except Exception as exc:
                    code = exc.code if isinstance(exc, YakubaError) else type(exc).__name__
                    refused[code] = refused.get(code, 0) + 1
                    continue
                kept.append(card)
            if not kept:
                raise YakubaError(f"every card of {kiosk.instance} was refused: {refused}")
            kiosk.cards = kept

        await asyncio.gather(*(check(kiosk) for kiosk in self._kiosks))
        return refused

    async def run(
        self,
        *,
        duration: float,
        rate: float | None,
        tick: Callable[[Drive], None] | None = None,
    ) -> Drive:
        """Issue for DURATION seconds: RATE arrivals per second, evenly spaced, each taken by a free kiosk
        (an arrival with none free waits, and is counted; at the end, those still waiting are counted as not
        started), or with RATE None every kiosk back to back."""
        drive = Drive()
        deadline = time.perf_counter() + duration
        free: asyncio.Queue[_Kiosk] = asyncio.Queue()
        for kiosk in self._kiosks:
            free.put_nowait(kiosk)

        async def one(kiosk: _Kiosk) -> None:
            try:
                await self._transact(kiosk, drive)
            finally:
                free.put_nowait(kiosk)

        async def flat_out(kiosk: _Kiosk) -> None:
            while time.perf_counter() < deadline:
                await self._transact(kiosk, drive)

        async def ticker() -> None:
            while True:
                await asyncio.sleep(0.5)
                if tick is not None:
                    tick(drive)

        ticking = asyncio.create_task(ticker())
        try:
            if rate is None:
                await asyncio.gather(*(flat_out(kiosk) for kiosk in self._kiosks))
            else:
                running: set[asyncio.Task[None]] = set()
                start = time.perf_counter()
                arrival = 0
                while (due := start + arrival / rate) < deadline:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    if free.empty():
                        drive.waited_for_kiosk += 1
                    kiosk = await free.get()
                    if time.perf_counter() >= deadline:  # saturated: the arrivals still due are not started
                        free.put_nowait(kiosk)
                        drive.not_started = math.ceil((deadline - start) * rate) - arrival
                        break
                    task = asyncio.create_task(one(kiosk))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    arrival += 1
                await asyncio.gather(*running)
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking
        return drive

    async def _transact(self, kiosk: _Kiosk, drive: Drive) -> None:
        card = kiosk.next_card()
        began = time.perf_counter()
        try:
            pages, document, opened = await self._issue(kiosk, card)
        except Exception as exc:  # counted and shown by code; the run goes on
            code = exc.code if isinstance(exc, YakubaError) else type(exc).__name__
            drive.transactions.append(
                Transaction(kiosk.instance, card.city_code, began, time.perf_counter() - began, error=code)
            )
            return
        drive.transactions.append(Transaction(kiosk.instance, card.city_code, began, opened - began, pages))
        if (len(drive.transactions) - 1) % self._verify_every == 0:  # the first, then one in VERIFY_EVERY
            drive.documents.append(document)

    async def _issue(self, kiosk: _Kiosk, card: EmulatedCard) -> tuple[int, bytes, float]:
        """One transaction: the page count, the opened document and when it was opened (the latency ends
        there); the completion is then reported as printed."""
        challenge = await kiosk.hq.challenge()
        key = TransactionKey.generate()
        request = IssuanceRequest(
            transaction_id=f"tx-{uuid.uuid4().hex}",
            kiosk_id=kiosk.instance,
            city=card.city_code,
            basis=Basis.RESIDENCE,
            kind=KIND,
            options={},
            copies=1,
            transaction_key=key.public_bytes(),
            requested_at=self._clock.now().isoformat(timespec="seconds"),
        )
        digest = request_digest(request.signed_form())
        signature = card.sign_digest(
            card_auth_digest(challenge=challenge.challenge, request_digest=digest, kiosk_id=kiosk.instance)
        )
        answer = await kiosk.hq.submit(
            IssuanceSubmission(
                request=request, challenge=challenge.challenge, card_certificate=card.certificate, signature=signature
            )
        )
        if answer.transaction_id != request.transaction_id:
            raise YakubaError("the answer is for another transaction")
        binding = SealingBinding(
            transaction_id=request.transaction_id,
            card_fingerprint=card.fingerprint,
            request_digest=digest,
            purpose=SEALING_PURPOSE,
        )
        document = key.open(answer.envelope, binding=binding)
        opened = time.perf_counter()
        await kiosk.hq.complete(
            CompletionReport(
                transaction_id=request.transaction_id, outcome=Outcome.PRINTED, copies_printed=1, copies_voided=0
            )
        )
        return answer.pages, document, opened
