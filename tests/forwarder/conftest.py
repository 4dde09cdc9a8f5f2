"""Fixtures of the forwarder tests: the sample deployment, stand-in issuers on the backbone, the center's client."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from fastapi import APIRouter, FastAPI, Header

from yakuba.clock import JST, FixedClock
from yakuba.config import Deployment, Role, write_sample
from yakuba.errors import EligibilityError
from yakuba.forwarder import create_app, listen_segment
from yakuba.issuer.errors import CardNotRegisteredError
from yakuba.pki import init_pki, load_service_identity
from yakuba.wire import Server, ServiceClient, allow, build_app, client_session
from yakuba.wire.messages import (
    CompletionBatch,
    CompletionBatchAnswer,
    CompletionResult,
    HistoryAnswer,
    HistoryRequest,
    IssuanceAnswer,
    IssuanceRequest,
    Outcome,
    RoutedSubmission,
    TaggedCompletion,
    TaggedHistorySubmission,
    TaggedSubmission,
)

NOW = dt.datetime.combine(dt.datetime.now(JST).date(), dt.time(10, 0), tzinfo=JST)
"""10:00 today (JST) on a fixed clock; the PKI is made the day before so TLS accepts it at the real time."""
CITY = "132292"
OTHER_CITY = "132110"
FORWARDER = "nishitokyo-forwarder"
JUKI = "nishitokyo-issuer-juki"
KOSEKI = "nishitokyo-issuer-koseki"
CENTER = "center-1"
REFUSED_KIND = "kazei"
"""The stand-in juki issuer refuses this kind, as an issuer refuses a person it may not serve."""


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    dep = write_sample(tmp_path_factory.mktemp("forwarder") / "deployment")
    init_pki(dep, clock=FixedClock(NOW - dt.timedelta(days=1)))
    return dep


def with_issuer_ports(dep: Deployment, ports: dict[str, int]) -> Deployment:
    """DEP with the named issuers listening on PORTS (servers started on port 0), same folders and keys."""
    data = dep.model_dump()
    for city in data["cities"]:
        for issuer in city["issuers"]:
            issuer["port"] = ports.get(issuer["instance"], issuer["port"])
    return Deployment.model_validate(data).model_copy(update={"root": dep.root})


@dataclasses.dataclass
class Seen:
    """What a stand-in issuer received: transaction ids and the idempotency keys they came with."""

    issuances: list[tuple[str, str | None]] = dataclasses.field(default_factory=list)
    completions: list[str] = dataclasses.field(default_factory=list)
    """Every report taken from a batch (not refused), in order; a repeated one answers closed=false."""
    histories: list[tuple[str, str | None]] = dataclasses.field(default_factory=list)
    batches: list[tuple[CompletionBatch, str | None]] = dataclasses.field(default_factory=list)
    answer_for_another: bool = False
    refuse_history: bool = False
    refuse: dict[str, str] = dataclasses.field(default_factory=dict)
    """Transaction id -> the error code the issuer answers for that report of a batch."""
    fail_batches: bool = False


def stand_in_issuer(instance: str, seen: Seen) -> FastAPI:
    """An issuer as the forwarder sees one: answers a sealed-looking envelope, refuses REFUSED_KIND."""
    router = APIRouter()

    @router.post("/v1/issuances", dependencies=[allow(Role.FORWARDER)])
    async def issue(
        body: RoutedSubmission, key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> dict[str, Any]:
        seen.issuances.append((body.request.transaction_id, key))
        if body.request.kind == REFUSED_KIND:
            raise EligibilityError()
        transaction_id = "tx-" + "f" * 32 if seen.answer_for_another else body.request.transaction_id
        return IssuanceAnswer(
            transaction_id=transaction_id,
            envelope=b"YKSL\x01" + secrets.token_bytes(64),
            document_serial="J229-00000001",
            pages=1,
            fee_yen=body.fee_yen,
            issuer_id=instance,
        ).model_dump(mode="json")

    @router.post("/v1/completion-batches", dependencies=[allow(Role.FORWARDER)])
    async def complete_batch(
        body: CompletionBatch, key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> dict[str, Any]:
        seen.batches.append((body, key))
        if seen.fail_batches:
            raise RuntimeError("the issuer fell over")
        results = []
        for item in body.completions:
            tx = item.transaction_id
            if tx in seen.refuse:
                results.append(CompletionResult(transaction_id=tx, error=seen.refuse[tx]))
            else:
                results.append(CompletionResult(transaction_id=tx, closed=tx not in seen.completions))
                seen.completions.append(tx)
        batch_id = "batch-" + "f" * 32 if seen.answer_for_another else body.batch_id
        return CompletionBatchAnswer(batch_id=batch_id, results=results).model_dump(mode="json")

    @router.post("/v1/history", dependencies=[allow(Role.FORWARDER)])
    async def history(
        body: TaggedHistorySubmission, key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> dict[str, Any]:
        seen.histories.append((body.request.transaction_id, key))
        if seen.refuse_history:
            raise CardNotRegisteredError()
        transaction_id = "tx-" + "f" * 32 if seen.answer_for_another else body.request.transaction_id
        return HistoryAnswer(transaction_id=transaction_id, envelopes=[b"YKSL\x01" + instance.encode()]).model_dump(
            mode="json"
        )

    return build_app(title=f"stand-in {instance}", routers=[router])


@dataclasses.dataclass
class Chain:
    """The forwarder between a center client and two stand-in issuers, all over real mTLS on loopback."""

    dep: Deployment
    center: ServiceClient
    session: aiohttp.ClientSession
    seen: dict[str, Seen]
    forwarder: Server
    issuers: dict[str, Server] = dataclasses.field(default_factory=dict)


@pytest.fixture
async def chain(deployment: Deployment) -> AsyncIterator[Chain]:
    seen = {JUKI: Seen(), KOSEKI: Seen()}
    issuers = {
        name: Server(
            app=stand_in_issuer(name, seen[name]),
            identity=load_service_identity(deployment, instance=name, segment_id=f"backbone:{CITY}"),
        )
        for name in seen
    }
    for server in issuers.values():
        await server.start()
    try:
        dep = with_issuer_ports(deployment, {name: server.port for name, server in issuers.items()})
        forwarder = Server(
            app=create_app(dep, instance=FORWARDER, clock=FixedClock(NOW)),
            identity=load_service_identity(dep, instance=FORWARDER, segment_id=listen_segment(dep, FORWARDER)),
        )
        async with forwarder:
            identity = load_service_identity(dep, instance=CENTER, segment_id="lgwan")
            async with client_session(identity, expected_role=Role.FORWARDER) as session:
                center = ServiceClient(session=session, base_url=forwarder.base_url, expected_role=Role.FORWARDER)
                yield Chain(dep=dep, center=center, session=session, seen=seen, forwarder=forwarder, issuers=issuers)
    finally:
        for server in issuers.values():
            await server.stop()


def submission(*, kind: str, city: str = CITY) -> RoutedSubmission:
    """A routed submission; its card fields are opaque bytes here (only the issuer verifies them)."""
    request = IssuanceRequest(
        transaction_id=f"tx-{secrets.token_hex(16)}",
        kiosk_id="midori-tanashi-1",
        city=city,
        kind=kind,
        copies=1,
        transaction_key=secrets.token_bytes(32),
        requested_at=NOW.isoformat(),
    )
    tagged = TaggedSubmission(
        request=request,
        challenge=secrets.token_bytes(32),
        card_certificate=secrets.token_bytes(600),
        signature=secrets.token_bytes(256),
        chain_id="midori",
    )
    return RoutedSubmission(**tagged.model_dump(), fee_yen=200)


def history_submission(*, city: str = CITY) -> TaggedHistorySubmission:
    """A tagged history request; its card fields are opaque bytes here (only the issuers verify them)."""
    request = HistoryRequest(
        transaction_id=f"tx-{secrets.token_hex(16)}",
        kiosk_id="midori-tanashi-1",
        city=city,
        transaction_key=secrets.token_bytes(32),
        requested_at=NOW.isoformat(),
    )
    return TaggedHistorySubmission(
        request=request,
        challenge=secrets.token_bytes(32),
        card_certificate=secrets.token_bytes(600),
        signature=secrets.token_bytes(256),
        chain_id="midori",
    )


def completion_of(sub: RoutedSubmission, outcome: Outcome = Outcome.PRINTED) -> TaggedCompletion:
    return TaggedCompletion(
        transaction_id=sub.request.transaction_id,
        outcome=outcome,
        copies_printed=1 if outcome is Outcome.PRINTED else 0,
        copies_voided=0,
        chain_id="midori",
        kiosk_id=sub.request.kiosk_id,
        city=sub.request.city,
        kind=sub.request.kind,
    )


@pytest.fixture
def clean_counters(deployment: Deployment) -> None:
    """Each test counts from zero: the counters table of the shared deployment is emptied before it."""
    from yakuba.forwarder.store import CounterStore, counters

    store = CounterStore.from_url(deployment.database_url(deployment.city(CITY).forwarder.database))
    with store.engine.begin() as conn:
        conn.execute(counters.delete())
    store.dispose()
