"""Challenges asked for in batches by an HQ: each bound to its own kiosk, single use, all or nothing per ask."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from yakuba.clock import FixedClock
from yakuba.database import make_engine
from yakuba.errors import AuthorizationError, ValidationError, VerificationError
from yakuba.pki.card import CardInfo
from yakuba.wire import CHALLENGE_TTL, ChallengeStore
from yakuba.wire.challenge import challenges_table
from yakuba.wire.messages import MAX_CHALLENGE_BATCH, PATH_CHALLENGE_BATCHES, ChallengeBatchAnswer

from .center_support import KIOSK, NISHITOKYO, OTHER_CHAIN_KIOSK, OTHER_KIOSK
from .conftest import Network


async def ask(net: Network, kiosk_ids: list[str]) -> ChallengeBatchAnswer:
    document = await net.kiosk.hq.post_json(PATH_CHALLENGE_BATCHES, {"kiosk_ids": kiosk_ids}, idempotency_key=None)
    return ChallengeBatchAnswer.model_validate(document)


def stored_rows(net: Network) -> list[tuple[bytes, str]]:
    engine = make_engine(f"sqlite:///{net.center_db}")
    try:
        with engine.connect() as conn:
            query = select(challenges_table.c.value_hash, challenges_table.c.issued_to)
            return [(row.value_hash, row.issued_to) for row in conn.execute(query)]
    finally:
        engine.dispose()


async def test_each_challenge_of_a_batch_works_once_for_its_own_kiosk_only(net: Network, card: CardInfo) -> None:
    kiosks = [KIOSK, OTHER_KIOSK, KIOSK]
    answer = await ask(net, kiosks)

    values = [c.challenge for c in answer.challenges]
    assert len(values) == len(kiosks)
    assert len(set(values)) == len(kiosks)  # a kiosk named twice gets two challenges
    expiry = (net.clock.now() + CHALLENGE_TTL).isoformat()
    assert {c.expires_at for c in answer.challenges} == {expiry}
    # Only the hashes are stored, each bound to its entry's kiosk.
    assert sorted(stored_rows(net)) == sorted(
        (hashlib.sha256(value).digest(), kiosk) for value, kiosk in zip(values, kiosks, strict=True)
    )

    for value, kiosk in zip(values, kiosks, strict=True):
        other = OTHER_KIOSK if kiosk == KIOSK else KIOSK
        with pytest.raises(VerificationError):  # another kiosk of the same chain cannot use it
            await net.kiosk.submit(net.kiosk.sign(card, net.kiosk.request(kiosk_id=other), value))
        await net.kiosk.submit(net.kiosk.sign(card, net.kiosk.request(kiosk_id=kiosk), value))
        with pytest.raises(VerificationError):  # single use
            await net.kiosk.submit(net.kiosk.sign(card, net.kiosk.request(kiosk_id=kiosk), value))
    assert len(net.forwarders[NISHITOKYO].issuances) == len(kiosks)


async def test_a_kiosk_of_another_chain_refuses_the_whole_ask(net: Network) -> None:
    with pytest.raises(AuthorizationError):
        await ask(net, [KIOSK, OTHER_CHAIN_KIOSK, OTHER_KIOSK])
    with pytest.raises(AuthorizationError):
        await ask(net, [OTHER_CHAIN_KIOSK])
    assert stored_rows(net) == []


async def test_an_hq_may_ask_for_its_own_kiosks_only(net: Network) -> None:
    async with net.hq_client("aozora-hq") as aozora:
        with pytest.raises(AuthorizationError):
            await aozora.post_json(PATH_CHALLENGE_BATCHES, {"kiosk_ids": [KIOSK]}, idempotency_key=None)
        document = await aozora.post_json(
            PATH_CHALLENGE_BATCHES, {"kiosk_ids": [OTHER_CHAIN_KIOSK]}, idempotency_key=None
        )
    [challenge] = ChallengeBatchAnswer.model_validate(document).challenges
    assert stored_rows(net) == [(hashlib.sha256(challenge.challenge).digest(), OTHER_CHAIN_KIOSK)]


async def test_at_most_max_challenge_batch_and_at_least_one(net: Network) -> None:
    full = await ask(net, [KIOSK, OTHER_KIOSK] * (MAX_CHALLENGE_BATCH // 2))
    assert len(full.challenges) == MAX_CHALLENGE_BATCH
    with pytest.raises(ValidationError):
        await ask(net, [KIOSK] * (MAX_CHALLENGE_BATCH + 1))
    with pytest.raises(ValidationError):
        await ask(net, [])
    with pytest.raises(ValidationError):
        await ask(net, [KIOSK, "Not A Kiosk!"])
    assert len(stored_rows(net)) == MAX_CHALLENGE_BATCH


def test_the_store_issues_a_batch_all_or_nothing(tmp_path: Path) -> None:
    """`issue_many` checks every id before writing: a malformed one leaves nothing behind, nor does an empty ask."""
    engine = make_engine(f"sqlite:///{tmp_path / 'challenges.sqlite3'}")
    try:
        clock = FixedClock(dt.datetime(2025, 11, 26, 1, 30, tzinfo=dt.UTC))
        store = ChallengeStore.open(engine=engine, clock=clock)
        with pytest.raises(ValidationError):
            store.issue_many([KIOSK, "Not A Kiosk!"])
        with pytest.raises(ValidationError):
            store.issue_many([])
        issued = store.issue_many([KIOSK, OTHER_KIOSK])
        assert [c.issued_to for c in issued] == [KIOSK, OTHER_KIOSK]
        assert {c.expires_at for c in issued} == {clock.now() + CHALLENGE_TTL}
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(challenges_table)).scalar_one() == 2
        store.consume(issued[1].value, OTHER_KIOSK)
        with pytest.raises(VerificationError):
            store.consume(issued[0].value, OTHER_KIOSK)
        store.consume(issued[0].value, KIOSK)
    finally:
        engine.dispose()
