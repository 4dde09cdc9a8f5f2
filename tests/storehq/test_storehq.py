"""The store HQ over real mTLS: only its own kiosks, no spoofing, correct tags, billing lines, no personal data."""

from __future__ import annotations

import base64
import logging
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiohttp
import pytest

from yakuba.config import Deployment, Role
from yakuba.errors import EligibilityError, UpstreamError, ValidationError
from yakuba.pki import ServiceIdentity
from yakuba.storehq import BillingStatus
from yakuba.storehq.errors import KioskNotServedError, TransactionConflictError, UnknownTransactionError
from yakuba.wire import Server, ServiceClient, client_session
from yakuba.wire.messages import (
    ChallengeAnswer,
    CompletionAnswer,
    CompletionReport,
    IssuanceAnswer,
    IssuanceSubmission,
    Outcome,
)

from .storehq_support import (
    CARD_CERTIFICATE,
    CITY,
    FEE,
    FOREIGN_KIOSK,
    HQ,
    KIOSK,
    OTHER_KIOSK,
    SIGNATURE,
    StandInCenter,
    delivered,
    issue_identity,
    new_transaction_id,
    submission,
)

KioskClient = Callable[..., AbstractAsyncContextManager[ServiceClient]]


async def _submit(client: ServiceClient, sub: IssuanceSubmission, *, key: str | None = None) -> IssuanceAnswer:
    body = await client.post_json(
        "/v1/issuances", sub.model_dump(mode="json"), idempotency_key=key or sub.request.transaction_id
    )
    return IssuanceAnswer.model_validate(body)


async def _complete(client: ServiceClient, report: CompletionReport, *, key: str | None = None) -> CompletionAnswer:
    body = await client.post_json(
        "/v1/completions", report.model_dump(mode="json"), idempotency_key=key or report.transaction_id
    )
    return CompletionAnswer.model_validate(body)


def _printed(transaction_id: str, printed: int = 2, voided: int = 0) -> CompletionReport:
    return CompletionReport(
        transaction_id=transaction_id, outcome=Outcome.PRINTED, copies_printed=printed, copies_voided=voided
    )


def _line_rows(database: Path) -> list[dict[str, object]]:
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(row) for row in conn.execute("SELECT * FROM billing_lines")]
    conn.close()
    return rows


async def test_health_answers_its_kiosks(
    kiosk_client: KioskClient, hq_server: Server, identity: Callable[..., ServiceIdentity]
) -> None:
    async with (
        client_session(identity(KIOSK), expected_role=Role.STOREHQ) as session,
        session.get(hq_server.base_url + "/v1/health") as response,
    ):
        assert response.status == 200
        assert await response.json() == {"status": "ok", "role": "storehq", "instance": HQ}


async def test_challenge_is_asked_for_the_calling_kiosk_only(kiosk_client: KioskClient, center: StandInCenter) -> None:
    async with kiosk_client(OTHER_KIOSK) as client:
        answer = ChallengeAnswer.model_validate(await client.post_json("/v1/challenges", {}, idempotency_key=None))
    assert len(answer.challenge) == 32
    assert [ask.kiosk_id for ask in center.asks] == [OTHER_KIOSK]


async def test_kiosk_of_another_chain_is_refused_in_the_handshake(
    kiosk_client: KioskClient, identity: Callable[..., ServiceIdentity], center: StandInCenter
) -> None:
    """aozora's kiosk holds a certificate of aozora's store network: midori's HQ does not trust that CA."""
    async with kiosk_client(FOREIGN_KIOSK, "store:aozora") as client:
        with pytest.raises(UpstreamError):
            await client.post_json("/v1/challenges", {}, idempotency_key=None)
    assert center.asks == []


async def test_kiosk_of_another_chain_is_refused_at_the_route(
    kiosk_client: KioskClient, deployment: Deployment, tmp_path: Path, center: StandInCenter
) -> None:
    """Even with a certificate of midori's CA, a kiosk id that is not one of midori's kiosks gets nothing."""
    stray = issue_identity(deployment, tmp_path, role=Role.KIOSK, instance=FOREIGN_KIOSK)
    async with kiosk_client(FOREIGN_KIOSK, loaded=stray) as client:
        with pytest.raises(KioskNotServedError):
            await client.post_json("/v1/challenges", {}, idempotency_key=None)
        with pytest.raises(KioskNotServedError):
            await _submit(client, submission(kiosk_id=FOREIGN_KIOSK))
    assert center.asks == []
    assert center.submissions == []


async def test_another_role_on_the_store_network_is_refused(
    kiosk_client: KioskClient, deployment: Deployment, tmp_path: Path, center: StandInCenter
) -> None:
    impostor = issue_identity(deployment, tmp_path, role=Role.STOREHQ, instance="midori-hq-2")
    async with kiosk_client("midori-hq-2", loaded=impostor) as client:
        with pytest.raises(Exception, match="may not call this route"):
            await _submit(client, submission(kiosk_id=KIOSK))
    assert center.submissions == []


async def test_a_kiosk_cannot_submit_for_another_kiosk(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(KioskNotServedError):
            await _submit(client, submission(kiosk_id=OTHER_KIOSK))
    assert center.submissions == []
    assert _line_rows(hq_database) == []


async def test_submission_is_tagged_with_the_chain_and_the_answer_passed_back_untouched(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    sub = submission(copies=2)
    tx = sub.request.transaction_id
    async with kiosk_client(KIOSK) as client:
        answer = await _submit(client, sub)
    [(tagged, key)] = center.submissions
    assert key == tx
    assert tagged.chain_id == "midori"
    assert tagged.request == sub.request
    assert (tagged.challenge, tagged.card_certificate, tagged.signature) == (sub.challenge, CARD_CERTIFICATE, SIGNATURE)
    assert answer == center.answers[tx]
    [line] = _line_rows(hq_database)
    assert line["transaction_id"] == tx
    assert (line["kiosk_id"], line["chain_id"], line["city"], line["kind"]) == (KIOSK, "midori", CITY, "juminhyo")
    assert (line["copies"], line["fee_per_copy"], line["status"]) == (2, FEE, "pending")
    assert line["business_day"] == "2025-11-26"


async def test_completion_closes_the_billing_line_and_is_tagged_from_the_line(
    kiosk_client: KioskClient, center: StandInCenter, hq_server: Server, hq_database: Path, deployment: Deployment
) -> None:
    sub = submission(copies=3)
    tx = sub.request.transaction_id
    async with kiosk_client(KIOSK) as client:
        await _submit(client, sub)
        answer = await _complete(client, _printed(tx, printed=2, voided=1))
    assert answer.closed
    await delivered(deployment)
    [(tagged, key)] = center.completions
    [(batch, batch_key)] = center.batches
    assert key == batch_key == batch.batch_id
    assert batch.completions == [tagged]
    assert (tagged.chain_id, tagged.kiosk_id, tagged.city, tagged.kind) == ("midori", KIOSK, CITY, "juminhyo")
    assert (tagged.outcome, tagged.copies_printed, tagged.copies_voided) == (Outcome.PRINTED, 2, 1)
    [line] = _line_rows(hq_database)
    assert (line["status"], line["copies_printed"], line["copies_voided"]) == ("printed", 2, 1)
    assert line["amount_yen"] == 2 * FEE
    assert line["reported_at"] is not None


@pytest.mark.parametrize(
    ("outcome", "printed", "voided", "status", "amount"),
    [
        (Outcome.JAM_VOIDED, 0, 2, BillingStatus.VOIDED, 0),
        (Outcome.ABANDONED, 0, 0, BillingStatus.ABANDONED, 0),
    ],
)
async def test_nothing_is_billed_for_voided_or_abandoned(
    kiosk_client: KioskClient,
    hq_database: Path,
    outcome: Outcome,
    printed: int,
    voided: int,
    status: BillingStatus,
    amount: int,
) -> None:
    sub = submission(copies=2)
    tx = sub.request.transaction_id
    report = CompletionReport(transaction_id=tx, outcome=outcome, copies_printed=printed, copies_voided=voided)
    async with kiosk_client(KIOSK) as client:
        await _submit(client, sub)
        await _complete(client, report)
    [line] = _line_rows(hq_database)
    assert (line["status"], line["amount_yen"]) == (status.value, amount)


async def test_a_retry_is_forwarded_again_without_a_second_line_and_a_reused_id_is_refused(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    sub = submission()
    tx = sub.request.transaction_id
    async with kiosk_client(KIOSK) as client:
        first = await _submit(client, sub)
        again = await _submit(client, sub)
        with pytest.raises(TransactionConflictError):
            await _submit(client, submission(transaction_id=tx))
    async with kiosk_client(OTHER_KIOSK) as other:
        with pytest.raises(TransactionConflictError):
            await _submit(other, submission(transaction_id=tx, kiosk_id=OTHER_KIOSK))
    assert first == again
    assert [key for _, key in center.submissions] == [tx, tx]
    assert len(_line_rows(hq_database)) == 1


async def test_the_idempotency_key_must_be_the_transaction_id(kiosk_client: KioskClient, center: StandInCenter) -> None:
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(ValidationError, match="Idempotency-Key"):
            await _submit(client, submission(), key=new_transaction_id())
    assert center.submissions == []


async def test_completion_of_an_unknown_transaction_is_refused(
    kiosk_client: KioskClient, center: StandInCenter
) -> None:
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(UnknownTransactionError):
            await _complete(client, _printed(new_transaction_id()))
    assert center.completions == []


async def test_completion_from_another_kiosk_is_refused(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    sub = submission()
    tx = sub.request.transaction_id
    async with kiosk_client(KIOSK) as client:
        await _submit(client, sub)
    async with kiosk_client(OTHER_KIOSK) as other:
        with pytest.raises(UnknownTransactionError):
            await _complete(other, _printed(tx))
    assert center.completions == []
    [line] = _line_rows(hq_database)
    assert line["status"] == "pending"


async def test_completion_must_fit_the_line_and_cannot_be_changed_once_closed(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    sub = submission(copies=2)
    tx = sub.request.transaction_id
    async with kiosk_client(KIOSK) as client:
        await _submit(client, sub)
        with pytest.raises(ValidationError):
            await _complete(client, _printed(tx, printed=3))
        with pytest.raises(ValidationError):
            await _complete(
                client,
                CompletionReport(transaction_id=tx, outcome=Outcome.ABANDONED, copies_printed=1, copies_voided=0),
            )
        first = await _complete(client, _printed(tx))
        repeat = await _complete(client, _printed(tx))
        with pytest.raises(TransactionConflictError):
            await _complete(
                client,
                CompletionReport(transaction_id=tx, outcome=Outcome.ABANDONED, copies_printed=0, copies_voided=0),
            )
    assert (first.closed, repeat.closed) == (True, False)
    [line] = _line_rows(hq_database)
    assert (line["status"], line["amount_yen"]) == ("printed", 2 * FEE)


async def test_printed_is_refused_for_a_transaction_the_center_never_answered(
    kiosk_client: KioskClient, center: StandInCenter, hq_database: Path
) -> None:
    center.refuse_with = EligibilityError()
    sub = submission()
    tx = sub.request.transaction_id
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(EligibilityError):
            await _submit(client, sub)
        with pytest.raises(ValidationError):
            await _complete(client, _printed(tx))
        await _complete(
            client,
            CompletionReport(
                transaction_id=tx, outcome=Outcome.ABANDONED, copies_printed=0, copies_voided=0, reason="not_eligible"
            ),
        )
    [line] = _line_rows(hq_database)
    assert (line["status"], line["reason"], line["fee_per_copy"]) == ("abandoned", "not_eligible", None)


async def test_an_answer_for_another_transaction_is_not_passed_on(
    kiosk_client: KioskClient, center: StandInCenter
) -> None:
    center.answer_for_other_transaction = True
    async with kiosk_client(KIOSK) as client:
        with pytest.raises(UpstreamError):
            await _submit(client, submission())


async def test_no_personal_data_at_rest_or_in_the_logs(
    kiosk_client: KioskClient, deployment: Deployment, hq_database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    subs = [submission(), submission(kiosk_id=KIOSK, copies=1)]
    async with kiosk_client(KIOSK) as client:
        for sub in subs:
            await _submit(client, sub)
        await _complete(client, _printed(subs[0].request.transaction_id))
        with pytest.raises(KioskNotServedError):
            await _submit(client, submission(kiosk_id=OTHER_KIOSK))
    stored = b"".join(path.read_bytes() for path in deployment.state_dir.glob("midori-hq.sqlite3*"))
    logged = caplog.text.encode()
    assert b"tx-" in stored
    assert subs[0].request.transaction_id.encode() in logged
    secrets = [CARD_CERTIFICATE, SIGNATURE, b"CARD-CERTIFICATE-SERIAL"]
    for sub in subs:
        secrets += [sub.challenge, sub.request.transaction_key]
    for secret in secrets:
        for form in (secret, base64.b64encode(secret), secret.hex().encode()):
            assert form not in stored
            assert form not in logged
    assert b"members" not in stored


async def test_the_hq_refuses_callers_without_a_client_certificate(hq_server: Server) -> None:
    connector = aiohttp.TCPConnector(ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.post(hq_server.base_url + "/v1/challenges", json={}) as response:
                await response.read()
