"""The issuance answer through the relays (issue #12): the envelope passes the forwarder, the center and the HQ
as the issuer's base64 text, never decoded; what the relays check (transaction, fee, size) they still check."""

from __future__ import annotations

import base64
import string
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from yakuba.clock import FixedClock, SystemClock
from yakuba.config import SAMPLE_PORTS, Role, write_sample
from yakuba.errors import YakubaError
from yakuba.kiosk.service import Choice, run_transaction
from yakuba.kiosk.terminal import open_kiosk
from yakuba.network import LocalNetwork
from yakuba.network.ports import free_port_block
from yakuba.network.sample_town import SampleTown, Situation, TownCard, next_open_weekday
from yakuba.pki import init_pki
from yakuba.pki.card import VirtualCardReader
from yakuba.storehq import wait_until_reported
from yakuba.wire.messages import MAX_ENVELOPE_BYTES

from .conftest import DELIVERY_TIMEOUT_S, TOWN_RESIDENTS, Chain, _hooked

pytestmark = pytest.mark.asyncio(loop_scope="package")

NISHITOKYO = "132292"
KIOSK = "midori-tanashi-1"
HQ = "midori-hq"
CENTER = "center-1"
ISSUER = "nishitokyo-issuer-juki"
"""Issues juminhyo, inkan and kazei (yakuba.forwarder.routing) for Nishitokyo, through nishitokyo-forwarder."""
ENVELOPE_TEXT_LIMIT = (MAX_ENVELOPE_BYTES + 2) // 3 * 4
"""The longest envelope text a relay takes: the base64 of the largest envelope (RelayedIssuanceAnswer)."""

_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def hooked(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Chain]:
    """A network of its own (the package's `chain` has hooks on the HQs only) with a hook on the issuances
    answered by EVERY role but the kiosk: a test plays the issuer, or a relay, by setting one."""
    dep = write_sample(tmp_path_factory.mktemp("relayed") / "deployment", base_port=free_port_block(SAMPLE_PORTS))
    init_pki(dep)
    clock = FixedClock(next_open_weekday(SystemClock().now()))
    town = SampleTown.create(dep, clock=clock, residents=TOWN_RESIDENTS, seed=2016)
    box: list[Chain] = []
    wrap = {
        cfg.instance: (lambda app, instance=cfg.instance: _hooked(app, box, instance))
        for role, cfg in dep.services()
        if role is not Role.KIOSK
    }
    async with LocalNetwork(dep=dep, clock=clock, wrap=wrap):
        box.append(Chain(dep=dep, clock=clock, town=town, relays=[]))
        yield box[0]


async def _issue(chain: Chain, card: TownCard, kind: str) -> Any:
    try:
        async with open_kiosk(chain.dep, instance=KIOSK, clock=chain.clock) as terminal:
            receipt, _ = await run_transaction(
                terminal,
                reader=VirtualCardReader.open(chain.dep, path=card.path),
                choice=Choice(basis="residence", city=card.city_code, kind=kind, options={}, copies=1),
                pin=card.pin,
            )
            return receipt
    finally:
        assert await wait_until_reported(chain.dep, timeout_s=DELIVERY_TIMEOUT_S) == 0


def _recorder(seen: list[dict[str, Any]], change: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Any:
    def hook(answer: dict[str, Any]) -> dict[str, Any]:
        changed = change(answer) if change is not None else answer
        seen.append(changed)
        return changed

    return hook


async def _refused_when(
    hooked: Chain, upstream: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> tuple[YakubaError, list[dict[str, Any]]]:
    """Issue a 住民票 with UPSTREAM's answer altered by CHANGE on its way down; the refusal the kiosk gets, and
    the answers the HQ passed down to the kiosk."""
    to_kiosk: list[dict[str, Any]] = []
    hooked.answer_hooks[upstream] = change
    hooked.answer_hooks[HQ] = _recorder(to_kiosk)
    try:
        with pytest.raises(YakubaError) as refused:
            await _issue(hooked, hooked.town.card(Situation.HOUSEHOLD, city_code=NISHITOKYO), "juminhyo")
    finally:
        hooked.answer_hooks.clear()
    return refused.value, to_kiosk


def _non_canonical(answer: dict[str, Any]) -> dict[str, Any]:
    """The same envelope bytes in other base64 text, where the padding leaves unused bits to set: a relay
    that decoded and encoded again would give the canonical text back, one passing the text on would not."""
    text: str = answer["envelope"]
    if not text.endswith("="):
        return answer
    last = len(text.rstrip("=")) - 1
    bumped = _B64[_B64.index(text[last]) + 1]  # the unused low bits of the last character were zero
    return {**answer, "envelope": text[:last] + bumped + text[last + 1 :]}


async def test_the_kiosk_gets_the_issuers_envelope_text_byte_for_byte(hooked: Chain) -> None:
    """What the issuer wrote is what the kiosk reads, down to the unused bits of the base64, after three relays;
    the kiosk still opens, verifies and prints it."""
    from_issuer: list[dict[str, Any]] = []
    to_kiosk: list[dict[str, Any]] = []
    hooked.answer_hooks[ISSUER] = _recorder(from_issuer, _non_canonical)
    hooked.answer_hooks[HQ] = _recorder(to_kiosk)
    altered = 0
    try:
        for situation, kind in [
            (Situation.HOUSEHOLD, "juminhyo"),
            (Situation.SEAL, "inkan"),
            (Situation.HOUSEHOLD, "kazei"),
        ]:
            receipt = await _issue(hooked, hooked.town.card(situation, city_code=NISHITOKYO), kind)
            assert receipt.outcome.value == "printed"
            assert len(receipt.printed) == 1
            assert to_kiosk[-1]["transaction_id"] == receipt.transaction_id
            assert to_kiosk[-1]["envelope"] == from_issuer[-1]["envelope"]
            assert to_kiosk[-1] == from_issuer[-1]
            altered += from_issuer[-1]["envelope"] != _canonical(from_issuer[-1]["envelope"])
    finally:
        hooked.answer_hooks.clear()
    assert altered, "no envelope had padding to make non-canonical: the test proved nothing"


def _canonical(text: str) -> str:
    return base64.b64encode(base64.b64decode(text, validate=True)).decode("ascii")


@pytest.mark.parametrize("upstream", [ISSUER, CENTER], ids=["forwarder-refuses", "hq-refuses"])
async def test_an_answer_for_another_transaction_is_still_refused_by_the_next_relay(
    hooked: Chain, upstream: str
) -> None:
    """The issuer (checked by the forwarder) or the center (checked by the HQ) answering for another
    transaction: refused there, never passed down to the kiosk, nothing printed."""
    crossed = "tx-" + "e" * 32
    refused, to_kiosk = await _refused_when(hooked, upstream, lambda answer: {**answer, "transaction_id": crossed})
    assert refused.code == "upstream_error"
    assert f"the {'issuer' if upstream == ISSUER else 'center'} answered for another transaction" in refused.text_en
    assert to_kiosk == []


async def test_an_envelope_that_is_not_base64_passes_the_relays_and_is_refused_at_the_kiosk(hooked: Chain) -> None:
    """The relays do not decode the envelope, so they pass text that is not base64 on; the kiosk, which reads
    the answer as an IssuanceAnswer, refuses it before anything is charged or printed."""
    refused, to_kiosk = await _refused_when(hooked, ISSUER, lambda answer: {**answer, "envelope": "not base64!"})
    assert [answer["envelope"] for answer in to_kiosk] == ["not base64!"]  # through the forwarder, center, HQ
    assert refused.code == "upstream_error"
    assert "IssuanceAnswer" in refused.text_en


async def test_an_envelope_text_over_the_limit_is_refused_by_the_first_relay(hooked: Chain) -> None:
    """An envelope text longer than the base64 of the largest envelope is refused by the forwarder (it never
    reaches the center, the HQ or the kiosk)."""
    oversized = "A" * (ENVELOPE_TEXT_LIMIT + 4)
    refused, to_kiosk = await _refused_when(hooked, ISSUER, lambda answer: {**answer, "envelope": oversized})
    assert refused.code == "upstream_error"
    issuer_port = next(cfg.port for _, cfg in hooked.dep.services() if cfg.instance == ISSUER)
    assert f":{issuer_port} answered something that is not a RelayedIssuanceAnswer" in refused.text_en
    assert to_kiosk == []
