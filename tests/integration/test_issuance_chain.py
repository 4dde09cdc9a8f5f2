"""A resident's request from a store kiosk to the city and back, over real mTLS on every link (issue 5)."""

from __future__ import annotations

import asyncio
import base64
import io
import sqlite3
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from yakuba.clock import JST
from yakuba.config import Role
from yakuba.documents import DocumentTrust, verify_document
from yakuba.errors import EligibilityError, WrongPinError, YakubaError
from yakuba.kiosk.service import Choice, run_transaction
from yakuba.kiosk.terminal import open_kiosk
from yakuba.network.sample_town import Situation, TownCard
from yakuba.pki import load_service_identity, revoke_card
from yakuba.pki.card import VirtualCardReader
from yakuba.registry import Person, open_city_registry
from yakuba.wire import client_session

from .conftest import Chain, state_files

pytestmark = pytest.mark.asyncio(loop_scope="package")

NISHITOKYO = "132292"
KODAIRA = "132110"

ISSUED: list[tuple[TownCard, Path]] = []
"""Every certificate printed by these tests, for the privacy checks at the end of the module."""


def person_of(chain: Chain, card: TownCard) -> Person:
    registry = open_city_registry(chain.dep, card.city_code, clock=chain.clock, migrate=False)
    with registry.db.transaction() as tx:
        return tx.fetch_person(card.person_id)


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "".join("".join(document[i].get_textpage().get_text_bounded().split()) for i in range(len(document)))
    finally:
        document.close()


async def verified_in_thread(chain: Chain, pdf: bytes) -> Any:
    """verify_document runs pyHanko's own event loop inside, so it goes to a worker thread from async code."""
    return await asyncio.to_thread(verify_document, pdf, trust=DocumentTrust.from_key_dir(chain.dep.key_dir))


async def issue(
    chain: Chain,
    card: TownCard,
    kind: str,
    *,
    options: dict[str, Any] | None = None,
    copies: int = 1,
    kiosk: str = "midori-tanashi-1",
    jam: frozenset[int] = frozenset(),
    pin: str | None = None,
) -> Any:
    """One whole transaction at KIOSK; returns the print receipt (or raises the refusal) once the completion has
    reached the center and the issuer too."""
    try:
        async with open_kiosk(chain.dep, instance=kiosk, clock=chain.clock, jam_copies=jam) as terminal:
            receipt, _ = await run_transaction(
                terminal,
                reader=VirtualCardReader.open(chain.dep, path=card.path),
                choice=Choice(basis="residence", city=card.city_code, kind=kind, options=options or {}, copies=copies),
                pin=pin or card.pin,
            )
            return receipt
    finally:
        await chain.delivered()


CASES = [
    (Situation.HOUSEHOLD, "juminhyo", {}),
    (Situation.HOUSEHOLD, "juminhyo", {"show_honseki": True, "show_relationship": True}),
    (Situation.HOUSEHOLD, "juminhyo", {"members": [0]}),
    (Situation.HOUSEHOLD, "juminhyo-kisai", {}),
    (Situation.HOUSEHOLD, "kazei", {}),
    (Situation.HOUSEHOLD, "shotoku", {}),
    (Situation.SEAL, "inkan", {}),
    (Situation.KOSEKI, "koseki-zenbu", {}),
    (Situation.KOSEKI, "koseki-kojin", {}),
    (Situation.KOSEKI, "fuhyo", {}),
]


@pytest.mark.parametrize(("situation", "kind", "options"), CASES)
async def test_every_kind_is_issued_through_the_whole_chain(
    chain: Chain, situation: Situation, kind: str, options: dict[str, Any]
) -> None:
    card = chain.town.card(situation, city_code=NISHITOKYO)
    receipt = await issue(chain, card, kind, options=options)
    assert receipt.outcome.value == "printed"
    assert len(receipt.printed) == 1
    assert receipt.charged_yen > 0
    pdf = receipt.printed[0].read_bytes()
    verified = await verified_in_thread(chain, pdf)
    assert (verified.summary.city_code, verified.summary.kind.value) == (NISHITOKYO, kind)
    person = person_of(chain, card)
    assert person.name.family in pdf_text(pdf)
    ISSUED.append((card, receipt.printed[0]))


async def test_the_neighbour_city_issues_through_another_chain(chain: Chain) -> None:
    card = chain.town.card(Situation.HOUSEHOLD, city_code=KODAIRA)
    receipt = await issue(chain, card, "juminhyo", kiosk="aozora-kodaira-1", copies=2)
    assert receipt.outcome.value == "printed"
    assert len(receipt.printed) == 2
    assert receipt.printed[0].read_bytes() == receipt.printed[1].read_bytes()
    pdf = receipt.printed[0].read_bytes()
    assert (await verified_in_thread(chain, pdf)).summary.city_code == KODAIRA
    ISSUED.append((card, receipt.printed[0]))


async def test_paper_jam_voids_one_copy_and_charges_only_the_printed(chain: Chain) -> None:
    card = chain.town.card(Situation.HOUSEHOLD, city_code=NISHITOKYO)
    receipt = await issue(chain, card, "juminhyo", copies=3, jam=frozenset({2}), kiosk="nishitokyo-hall-1")
    assert receipt.voided == (2,)
    assert len(receipt.printed) == 2
    assert receipt.charged_yen == 2 * receipt.refunded_for_voided_yen
    ISSUED.append((card, receipt.printed[0]))


@pytest.mark.parametrize(
    ("situation", "kind"),
    [
        (Situation.SUPPORT_MEASURE, "juminhyo"),
        (Situation.UNDER_15, "juminhyo"),
        (Situation.PENDING_MOVE_OUT, "juminhyo"),
    ],
)
async def test_refusals_charge_nothing_and_reveal_no_reason(chain: Chain, situation: Situation, kind: str) -> None:
    card = chain.town.card(situation, city_code=NISHITOKYO)
    with pytest.raises(YakubaError) as refused:
        await issue(chain, card, kind)
    assert isinstance(refused.value, EligibilityError)
    assert refused.value.code == "not_eligible"
    message = refused.value.text_ja + refused.value.text_en
    for secret in ("支援", "support", "DV", "move-out", "転出"):
        assert secret not in message


async def test_wrong_pin_shows_tries_left_and_nothing_is_sent(chain: Chain, tmp_path: Path) -> None:
    card = chain.town.card(Situation.KOSEKI, city_code=KODAIRA)
    with pytest.raises(WrongPinError) as wrong:
        await issue(chain, card, "koseki-zenbu", pin="0000" if card.pin != "0000" else "1111")
    assert wrong.value.tries_left == 2
    receipt = await issue(chain, card, "koseki-zenbu", kiosk="aozora-kodaira-1")  # a right PIN resets the count
    assert receipt.outcome.value == "printed"
    with VirtualCardReader.open(chain.dep, path=card.path) as reader:
        reader.select_jpki_ap()
        assert reader.pin_tries_left() == 3


async def test_an_envelope_swapped_by_a_compromised_hq_is_refused_before_printing(chain: Chain) -> None:
    """Another resident's sealed certificate, passed down in place of this one, is never printed or charged."""
    first = chain.town.card(Situation.SEAL, city_code=NISHITOKYO)
    other = chain.town.card(Situation.HOUSEHOLD, city_code=NISHITOKYO)
    stolen: dict[str, Any] = {}

    def swap(answer: dict[str, Any]) -> dict[str, Any]:
        if not stolen:
            stolen.update(answer)
            return answer
        return {**answer, "envelope": stolen["envelope"]}

    chain.answer_hooks["midori-hq"] = swap
    try:
        await issue(chain, first, "inkan")
        with pytest.raises(YakubaError) as refused:
            await issue(chain, other, "juminhyo")
    finally:
        chain.answer_hooks.pop("midori-hq")
    assert refused.value.code == "document_refused"
    assert "not sealed for this transaction" in refused.value.text_en


async def test_a_card_revoked_a_moment_ago_is_refused(chain: Chain) -> None:
    card = chain.town.card(Situation.UNDER_15, city_code=KODAIRA)
    revoke_card(chain.dep, card.serial, "affiliationChanged")
    with pytest.raises(YakubaError) as refused:
        await issue(chain, card, "juminhyo", kiosk="aozora-kodaira-1")
    assert refused.value.code == "verification_failed"
    assert "revoked" in refused.value.text_en


BAD_BODIES = [b"{not json", b"[]", b'{"request": 5}', b"x" * (2 * 1024 * 1024)]


@pytest.mark.parametrize(
    ("server", "caller", "segment", "role", "path"),
    [
        ("midori-hq", "midori-tanashi-1", "store:midori", Role.STOREHQ, "/v1/issuances"),
        ("midori-hq", "midori-tanashi-1", "store:midori", Role.STOREHQ, "/v1/completions"),
        ("center-1", "midori-hq", "dedicated", Role.CENTER, "/v1/issuances"),
        ("center-1", "midori-hq", "dedicated", Role.CENTER, "/v1/challenges"),
        ("nishitokyo-forwarder", "center-1", "lgwan", Role.FORWARDER, "/v1/issuances"),
        ("nishitokyo-issuer-juki", "nishitokyo-forwarder", "backbone:132292", Role.ISSUER, "/v1/issuances"),
    ],
)
async def test_bad_input_gets_a_clear_4xx_never_a_500(
    chain: Chain, server: str, caller: str, segment: str, role: Role, path: str
) -> None:
    identity = load_service_identity(chain.dep, instance=caller, segment_id=segment)
    url = next(cfg.base_url for _, cfg in chain.dep.services() if cfg.instance == server)
    async with client_session(identity, expected_role=role) as session:
        for body in BAD_BODIES:
            data = io.BytesIO(body)  # aiohttp warns on large raw bytes bodies
            async with session.post(url + path, data=data, headers={"Content-Type": "application/json"}) as resp:
                answer = await resp.json()
                assert 400 <= resp.status < 500, (server, path, body[:20], resp.status, answer)
                assert set(answer) >= {"error", "message"}


def _personal_values(chain: Chain) -> list[str]:
    values: list[str] = []
    for card, _ in ISSUED:
        person = person_of(chain, card)
        values += [
            person.name.family + person.name.given,
            person.my_number,
            person.juminhyo_code,
            str(person.address),
            person.address.town + (f"{person.address.ban}番" if person.address.chome else ""),
            person.birth_date.isoformat(),
        ]
    return [v for v in values if v and len(v) >= 4]


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    return [raw, value.encode("utf-16-le"), base64.b64encode(raw)[:-4] if len(raw) > 6 else raw]


async def test_no_personal_data_on_any_link(chain: Chain) -> None:
    """A recording relay on every link saw every byte of the issuances above: none of it is readable."""
    assert ISSUED, "run with the issuance tests"
    captured = {relay.name: bytes(relay.captured) for relay in chain.relays}
    assert sum(relay.connections for relay in chain.relays) > 0
    assert all(len(data) > 0 for name, data in captured.items() if "issuer" in name or "hq" in name)
    for value in _personal_values(chain):
        for form in _forms(value):
            for name, data in captured.items():
                assert form not in data, f"{value!r} seen on the link to {name}"


async def test_relays_keep_nothing_personal(chain: Chain) -> None:
    """The databases and files of the HQs, the center and the forwarders hold none of the residents' data."""
    assert ISSUED
    relays = [c.hq.instance for c in chain.dep.chains] + [chain.dep.center.instance, chain.dep.jpki.instance]
    relays += [city.forwarder.instance for city in chain.dep.cities]
    files = state_files(chain.dep, *relays)
    assert any(path.suffix == ".sqlite3" for path in files)
    values = _personal_values(chain)
    for path in files:
        blob = path.read_bytes()
        for value in values:
            for form in _forms(value):
                assert form not in blob, f"{value!r} found in {path.name}"
    for path in files:
        if path.suffix == ".sqlite3":
            with sqlite3.connect(path) as db:
                tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
            assert tables


async def test_health_of_every_role(chain: Chain) -> None:
    from yakuba.network.processes import check_health

    for role, cfg in chain.dep.services():
        if role is Role.KIOSK:
            continue
        health = await check_health(chain.dep, cfg.instance)
        assert health["status"] == "ok"


async def test_center_settlement_command_shows_the_month(chain: Chain) -> None:
    """`yakuba center settlement` reconciles what the chains printed: the month's lines from the center's store."""
    from typer.testing import CliRunner

    from yakuba.center import settlement_report
    from yakuba.cli._center import app

    assert ISSUED
    month = chain.clock.now().astimezone(JST).strftime("%Y-%m")
    rows = await asyncio.to_thread(settlement_report, chain.dep, month)
    printed = sum(r.copies_printed for r in rows)
    yen = sum(r.amount_yen for r in rows)
    assert printed >= len(ISSUED)
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["settlement", month, "-d", str(chain.dep.root)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    total_line = next(line for line in result.output.splitlines() if " total " in line)
    assert f"{yen:,}" in total_line
    assert str(printed) in total_line
    resumed = await asyncio.to_thread(
        CliRunner().invoke, app, ["resume", "--city", NISHITOKYO, "-d", str(chain.dep.root)]
    )
    assert "not suspended" in resumed.output
