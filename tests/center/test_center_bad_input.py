"""Bad input never gets a 500: malformed JSON, wrong types, oversized bodies, missing keys, unknown cities."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from yakuba.pki.card import CardInfo
from yakuba.wire import IDEMPOTENCY_KEY_HEADER
from yakuba.wire.messages import PATH_CHALLENGES, PATH_COMPLETION_BATCHES, PATH_ISSUANCES

from .center_support import KIOSK
from .conftest import Network


async def _post(
    net: Network, path: str, data: bytes | io.BytesIO, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    session = net.hq_session
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    async with session.post(net.center.base_url + path, data=data, headers=all_headers) as response:
        return response.status, await response.json()


def _assert_error_body(body: Any) -> None:
    assert set(body) == {"error", "message", "message_ja"}


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b"",
        b"[]",
        b'{"kiosk_id": 42}',
        b'{"kiosk_id": "UPPER CASE"}',
        b'{"kiosk_id": "midori-tanashi-1", "extra": true}',
        '{"kiosk_id": "\u30ad\u30aa\u30b9\u30af"}'.encode(),
    ],
)
async def test_malformed_challenge_asks_are_400(net: Network, data: bytes) -> None:
    status, body = await _post(net, PATH_CHALLENGES, data)
    assert status == 400
    assert body["error"] == "invalid_input"
    _assert_error_body(body)


async def test_malformed_submissions_are_400_and_do_not_echo_input(net: Network, card: CardInfo) -> None:
    submission = (await net.kiosk.signed(card)).model_dump(mode="json")
    key = {IDEMPOTENCY_KEY_HEADER: submission["request"]["transaction_id"]}
    variants: list[dict[str, Any]] = []
    for field, value in [
        ("copies", "2"),
        ("copies", 0),
        ("copies", 11),
        ("city", "13229"),
        ("kind", "JUMINHYO"),
        ("options", {"members": "all"}),
        ("transaction_key", "not base64!"),
        ("requested_at", "yesterday"),
        ("transaction_id", "tx-123"),
    ]:
        variants.append({**submission, "request": {**submission["request"], field: value}})
    variants.append({**submission, "signature": 12345})
    variants.append({**submission, "chain_id": None})
    variants.append({k: v for k, v in submission.items() if k != "challenge"})
    for variant in variants:
        status, body = await _post(net, PATH_ISSUANCES, json.dumps(variant).encode(), key)
        assert status == 400, variant
        _assert_error_body(body)
        assert "yesterday" not in body["message"]
    assert net.forwarders["132292"].issuances == []


async def test_options_of_the_wrong_shape_are_400(net: Network, card: CardInfo) -> None:
    malformed: list[dict[str, Any]] = [
        {"members": [0, 0]},
        {"members": [-1]},
        {"members": [1000]},
        {"show_honseki": 1},
        {"members": []},
    ]
    for options in malformed:
        submission = await net.kiosk.signed(card, options=options)
        status, body = await _post(
            net,
            PATH_ISSUANCES,
            json.dumps(submission.model_dump(mode="json")).encode(),
            {IDEMPOTENCY_KEY_HEADER: submission.request.transaction_id},
        )
        assert (status, body["error"]) == (400, "invalid_input"), options


async def test_the_idempotency_key_must_be_the_transaction_id(net: Network, card: CardInfo) -> None:
    submission = await net.kiosk.signed(card)
    data = json.dumps(submission.model_dump(mode="json")).encode()
    for headers in ({}, {IDEMPOTENCY_KEY_HEADER: "tx-" + "0" * 32}):
        status, body = await _post(net, PATH_ISSUANCES, data, headers)
        assert (status, body["error"]) == (400, "invalid_input")
    status, _ = await _post(net, PATH_ISSUANCES, data, {IDEMPOTENCY_KEY_HEADER: submission.request.transaction_id})
    assert status == 200


async def test_an_oversized_body_is_413(net: Network) -> None:
    data = b'{"kiosk_id": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    status, body = await _post(net, PATH_CHALLENGES, io.BytesIO(data))
    assert status == 413
    _assert_error_body(body)


async def test_unknown_city_and_kind_are_404_with_the_error_body(net: Network, card: CardInfo) -> None:
    for fields in ({"city": "131016"}, {"kind": "passport"}):
        submission = await net.kiosk.signed(card, **fields)
        status, body = await _post(
            net,
            PATH_ISSUANCES,
            json.dumps(submission.model_dump(mode="json")).encode(),
            {IDEMPOTENCY_KEY_HEADER: submission.request.transaction_id},
        )
        assert (status, body["error"]) == (404, "not_found")
        _assert_error_body(body)
        assert body["message_ja"]


async def test_a_malformed_completion_is_400(net: Network) -> None:
    item = {
        "transaction_id": "tx-" + "a" * 32,
        "outcome": "printed_twice",
        "copies_printed": 1,
        "copies_voided": 0,
        "chain_id": "midori",
        "kiosk_id": KIOSK,
        "city": "132292",
        "kind": "juminhyo",
    }
    batch_id = "batch-" + "a" * 32
    headers = {IDEMPOTENCY_KEY_HEADER: batch_id}
    status, answer = await _post(
        net, PATH_COMPLETION_BATCHES, json.dumps({"batch_id": batch_id, "completions": [item]}).encode(), headers
    )
    assert (status, answer["error"]) == (400, "invalid_input")
    item["outcome"], item["reason"] = "abandoned", "Mr. Yamada walked away"
    status, answer = await _post(
        net, PATH_COMPLETION_BATCHES, json.dumps({"batch_id": batch_id, "completions": [item]}).encode(), headers
    )
    assert (status, answer["error"]) == (400, "invalid_input")
    assert "Yamada" not in answer["message"]
