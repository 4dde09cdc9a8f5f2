"""Every kind and several option sets, over real mTLS: the envelope opens with the kiosk key, the PDF verifies
and names the right person."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from yakuba.documents import DocumentTrust, verify_document
from yakuba.registry import Person, fiscal_year_on
from yakuba.wareki import era_year, format_wareki

from .issuer_support import (
    FEE_YEN,
    JUKI,
    KOSEKI,
    TODAY,
    IssuerCalls,
    World,
    open_answer,
    pdf_text,
    sign,
    squeezed,
)


async def _issue_and_read(
    world: World,
    issuer: IssuerCalls,
    trust: DocumentTrust,
    person: Person,
    kind: str,
    *,
    instance: str,
    **options: object,
) -> str:
    card = world.enrol(person)
    submission, key = sign(world.dep, card, kind=kind, options=dict(options))
    answer = await issuer.issue(submission, instance=instance)
    assert answer.transaction_id == submission.request.transaction_id
    assert answer.issuer_id == instance
    assert answer.fee_yen == FEE_YEN
    pdf = open_answer(answer, submission, key)
    # verify_document runs pyHanko's own event loop: call it from a thread, as a receiving company's tool would.
    verified = await asyncio.to_thread(verify_document, pdf, trust=trust)
    assert verified.summary.serial == answer.document_serial
    assert verified.summary.kind.value == kind
    assert verified.pages == answer.pages
    text = pdf_text(pdf)
    assert squeezed(person.name.full) in text
    return text


@pytest.mark.parametrize("kind", ["juminhyo", "juminhyo-kisai", "kazei", "shotoku"])
async def test_residence_and_tax_kinds_name_the_applicant(
    kind: str, world: World, issuer: IssuerCalls, document_trust: DocumentTrust
) -> None:
    def has_tax(p: Person) -> bool:
        with world.registry.db.transaction() as tx:
            return tx.fetch_tax_statement(person_id=p.id, fiscal_year=fiscal_year_on(TODAY)) is not None

    person = world.claim(lambda p: world.ordinary(p) and has_tax(p))
    text = await _issue_and_read(world, issuer, document_trust, person, kind, instance=JUKI)
    if kind in ("kazei", "shotoku"):
        as_of = format_wareki(TODAY - dt.timedelta(days=1))
        assert f"{as_of}現在" in text  # the nightly snapshot's as-of date is printed
        assert era_year(dt.date(fiscal_year_on(TODAY), 4, 1)) + "度" in text


async def test_seal_certificate_needs_and_shows_a_live_registration(
    world: World, issuer: IssuerCalls, document_trust: DocumentTrust
) -> None:
    def has_seal(p: Person) -> bool:
        with world.registry.db.transaction() as tx:
            return tx.fetch_live_seal(p.id) is not None

    person = world.claim(lambda p: world.ordinary(p) and has_seal(p))
    text = await _issue_and_read(world, issuer, document_trust, person, "inkan", instance=JUKI)
    assert "印鑑登録証明書" in text


@pytest.mark.parametrize("kind", ["koseki-zenbu", "koseki-kojin", "fuhyo"])
async def test_family_register_kinds_come_from_the_koseki_system(
    kind: str, world: World, issuer: IssuerCalls, document_trust: DocumentTrust
) -> None:
    def register_ok(p: Person) -> bool:
        register = world.register_of(p)
        return (
            register is not None
            and not register.pending_filings
            and not any(m.person_id is not None and world.person(m.person_id).support_measure for m in register.members)
        )

    person = world.claim(lambda p: world.ordinary(p) and register_ok(p))
    text = await _issue_and_read(world, issuer, document_trust, person, kind, instance=KOSEKI)
    register = world.register_of(person)
    assert register is not None
    assert squeezed(register.hittosha) in text


@pytest.mark.parametrize(
    "options",
    [
        {"self_only": True},
        {"members": [0]},
        {"show_honseki": True, "show_relationship": True},
        {"show_individual_number": True},
    ],
    ids=["self-only", "head-only", "honseki-relationship", "individual-number"],
)
async def test_residence_record_options(
    options: dict[str, object], world: World, issuer: IssuerCalls, document_trust: DocumentTrust
) -> None:
    def family(p: Person) -> bool:
        with world.registry.db.transaction() as tx:
            view = tx.fetch_household_for_certificate(p.id)
        return len(view.members) >= 3 and p.is_japanese and view.members[0].id != p.id and world.household_ok(p)

    person = world.claim(lambda p: world.ordinary(p) and family(p))
    with world.registry.db.transaction() as tx:
        view = tx.fetch_household_for_certificate(person.id)
    head, others = view.members[0], [m for m in view.members if m.id != person.id]
    text = await _issue_and_read(world, issuer, document_trust, person, "juminhyo", instance=JUKI, **options)
    if options.get("self_only"):
        # The head's name is printed as 世帯主 on every 住民票; the other members must not be.
        hidden = [m for m in others if m.id != head.id and m.name.full != person.name.full]
        assert hidden
        assert all(squeezed(m.name.full) not in text for m in hidden)
    if options.get("members") == [0]:
        assert squeezed(head.name.full) in text
    if options.get("show_honseki"):
        assert squeezed(person.honseki or "") in text
    if options.get("show_individual_number"):
        assert person.my_number in text
    else:
        assert person.my_number not in text
    assert person.juminhyo_code not in text  # never the 住民票コード
