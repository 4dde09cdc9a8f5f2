"""The store HQ's history route: own kiosks only, no spoofing, tagged and relayed, nothing billed, 4xx on bad input."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from yakuba.config import Role
from yakuba.errors import UpstreamError, ValidationError
from yakuba.pki import ServiceIdentity
from yakuba.storehq.errors import KioskNotServedError
from yakuba.wire import Server, ServiceClient, client_session
from yakuba.wire.messages import PATH_HISTORY, HistoryAnswer, HistorySubmission

from .storehq_support import KIOSK, OTHER_KIOSK, StandInCenter, envelope_for, history_submission

KioskClient = Callable[..., AbstractAsyncContextManager[ServiceClient]]


async def send(client: ServiceClient, submission: HistorySubmission, key: str | None = None) -> HistoryAnswer:
    body = await client.post_json(
        PATH_HISTORY, submission.model_dump(mode="json"), idempotency_key=key or submission.request.transaction_id
    )
    return HistoryAnswer.model_validate(body)


async def test_a_history_request_is_tagged_relayed_and_not_billed(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    submission = history_submission()
    async with kiosk_client(KIOSK) as client:
        answer = await send(client, submission)
    tx = submission.request.transaction_id
    assert len(answer.envelopes) == 2
    assert all(e.startswith(envelope_for(tx)[: 5 + len(tx)]) for e in answer.envelopes)  # passed back untouched
    ((tagged, key),) = center.histories
    assert key == tx
    assert tagged.chain_id == "midori"
    assert tagged.request == submission.request
    with sqlite3.connect(hq_database) as db:
        assert db.execute("SELECT count(*) FROM billing_lines").fetchone() == (0,)


async def test_a_request_for_another_kiosk_is_refused(kiosk_client: KioskClient, center: StandInCenter) -> None:
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(KioskNotServedError):
            await send(client, history_submission(kiosk_id=OTHER_KIOSK))
    assert center.histories == []


async def test_the_key_must_be_the_transaction_id(kiosk_client: KioskClient, center: StandInCenter) -> None:
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(ValidationError):
            await send(client, history_submission(), key="tx-" + "0" * 32)
    assert center.histories == []


async def test_a_crossed_answer_is_refused(kiosk_client: KioskClient, center: StandInCenter) -> None:
    center.answer_for_other_transaction = True
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(UpstreamError):
            await send(client, history_submission())


@pytest.mark.parametrize("data", [b"{not json", b"", b"[]", b'{"request": 1}', b'{"request": {}, "chain_id": "x"}'])
async def test_malformed_history_bodies_are_400(
    hq_server: Server, identity: Callable[..., ServiceIdentity], data: bytes
) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "tx-" + "0" * 32}
    async with (
        client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session,
        session.post(hq_server.base_url + PATH_HISTORY, data=data, headers=headers) as response,
    ):
        assert response.status == 400
