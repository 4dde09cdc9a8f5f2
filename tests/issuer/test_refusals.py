"""Each eligibility rule and each card check refuses, with the generic message for every personal reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from yakuba.errors import EligibilityError, ValidationError, VerificationError, YakubaError
from yakuba.forwarder.errors import WrongCityError
from yakuba.issuer.errors import CardNotRegisteredError, KindNotServedError, NotPrintableError
from yakuba.pki import revoke_card
from yakuba.registry import (
    Address,
    KosekiRegister,
    NewPerson,
    Person,
    PersonName,
    ResidentStatus,
    Sex,
    fiscal_year_on,
)
from yakuba.wire.messages import Basis

from .issuer_support import (
    JUKI,
    KOSEKI,
    OTHER_CITY,
    TODAY,
    IssuerCalls,
    World,
    adult_resident,
    fits_name_box,
    sign,
)

GENERIC = EligibilityError().to_body()
"""The one body every personal refusal answers with: nothing tells a support measure from any other reason."""


async def _refused(
    world: World,
    issuer: IssuerCalls,
    person_or_card: Any,
    kind: str,
    *,
    instance: str = JUKI,
    expected: type[YakubaError] = EligibilityError,
    **sign_args: Any,
) -> tuple[YakubaError, str]:
    card = world.enrol(person_or_card) if isinstance(person_or_card, Person) else person_or_card
    submission, _key = sign(world.dep, card, kind=kind, **sign_args)
    with pytest.raises(expected) as caught:
        await issuer.issue(submission, instance=instance)
    return caught.value, submission.request.transaction_id


def _reason(world: World, instance: str, transaction_id: str) -> str | None:
    store = world.log_store(instance)
    try:
        entry = store.fetch_entry(transaction_id)
    finally:
        store.dispose()
    return None if entry is None else entry.reason


def _update(world: World, person: Person, **changes: Any) -> None:
    """Change the record behind the card's back, as a broken data sync would (the binding stays active)."""
    with world.registry.db.transaction() as tx:
        tx.update_person(dataclasses.replace(tx.fetch_person(person.id), **changes))


async def test_under_fifteen_is_refused_generically(world: World, issuer: IssuerCalls) -> None:
    child = world.claim(
        lambda p: (
            p.status is ResidentStatus.RESIDENT
            and not p.support_measure
            and 10 <= p.age_on(TODAY) < 15
            and TODAY not in (p.resident_since, p.address_since)
        )
    )
    error, tx = await _refused(world, issuer, child, "juminhyo-kisai")
    assert error.to_body() == GENERIC
    assert _reason(world, JUKI, tx) == "under_age"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(ResidentStatus.MOVED_OUT, "moved_out"), (ResidentStatus.DECEASED, "deceased")],
)
async def test_a_removed_record_is_refused_even_with_a_live_card_binding(
    status: ResidentStatus, reason: str, world: World, issuer: IssuerCalls
) -> None:
    person = world.claim(lambda p: world.ordinary(p))
    card = world.enrol(person)
    _update(
        world,
        person,
        status=status,
        moved_out_on=TODAY if status is ResidentStatus.MOVED_OUT else None,
        died_on=TODAY if status is ResidentStatus.DECEASED else None,
    )
    error, tx = await _refused(world, issuer, card, "juminhyo-kisai")
    assert error.to_body() == GENERIC
    assert _reason(world, JUKI, tx) == reason


async def test_support_measure_refuses_with_the_same_generic_message(world: World, issuer: IssuerCalls) -> None:
    protected = world.claim(
        lambda p: p.status is ResidentStatus.RESIDENT and p.age_on(TODAY) >= 15 and p.support_measure
    )
    for kind in ("juminhyo-kisai", "juminhyo", "kazei"):
        error, tx = await _refused(world, issuer, protected, kind)
        assert error.to_body() == GENERIC
        assert "support" not in str(error).lower()
        assert "支援" not in error.text_ja
        assert _reason(world, JUKI, tx) == "support_measure"


async def test_a_household_certificate_never_includes_a_protected_member(world: World, issuer: IssuerCalls) -> None:
    def shares_with_protected(p: Person) -> bool:
        with world.registry.db.transaction() as tx:
            view = tx.fetch_household_for_certificate(p.id)
        return not view.has_pending_move_out and any(m.support_measure and m.id != p.id for m in view.members)

    person = world.claim(lambda p: adult_resident(p) and shares_with_protected(p))
    card = world.enrol(person)
    error, tx = await _refused(world, issuer, card, "juminhyo")
    assert error.to_body() == GENERIC
    assert _reason(world, JUKI, tx) == "member_support_measure"
    # The applicant alone is not refused: only a certificate that would show the protected member.
    submission, _key = sign(world.dep, card, kind="juminhyo", options={"self_only": True})
    answer = await issuer.issue(submission)
    assert answer.pages >= 1


async def test_a_household_with_a_filed_move_out_is_refused(world: World, issuer: IssuerCalls) -> None:
    def with_partner(p: Person) -> bool:
        with world.registry.db.transaction() as tx:
            view = tx.fetch_household_for_certificate(p.id)
        return len(view.members) >= 2 and world.household_ok(p)

    person = world.claim(lambda p: world.ordinary(p) and with_partner(p))
    with world.registry.db.transaction() as tx:
        leaving = next(m for m in tx.fetch_household_for_certificate(person.id).members if m.id != person.id)
    world.claimed.add(leaving.id)
    card = world.enrol(person)
    leaving_card = world.enrol(leaving) if adult_resident(leaving) else None
    world.registry.events.file_move_out(
        person_id=leaving.id,
        planned_on=TODAY + dt.timedelta(days=10),
        destination=Address(prefecture="東京都", city="小平市", town="学園東町", chome=1, ban=2, go=3),
    )
    error, tx = await _refused(world, issuer, card, "juminhyo")
    assert error.to_body() == GENERIC
    assert _reason(world, JUKI, tx) == "household_move_out_pending"
    if leaving_card is not None:
        error, tx = await _refused(world, issuer, leaving_card, "juminhyo-kisai")
        assert _reason(world, JUKI, tx) == "move_out_filed"


async def test_no_certificate_on_the_day_of_a_move_in(world: World, issuer: IssuerCalls) -> None:
    newcomer = world.registry.events.move_in(
        NewPerson(
            name=PersonName(family="転入", given="太郎", family_kana="テンニュウ", given_kana="タロウ"),
            birth_date=dt.date(1990, 5, 5),
            sex=Sex.MALE,
            honseki="東京都小平市学園東町一丁目100番地",
            hittosha="転入　太郎",
        ),
        address=Address(prefecture="東京都", city="西東京市", town="南町", chome=2, ban=3, go=4),
        moved_in_on=TODAY,
        previous_address=Address(prefecture="東京都", city="小平市", town="学園東町", chome=1, ban=2, go=3),
    )
    error, tx = await _refused(world, issuer, newcomer, "juminhyo-kisai")
    assert error.to_body() == GENERIC
    assert _reason(world, JUKI, tx) == "moved_in_today"


async def test_a_seal_deregistered_a_second_ago_is_not_certified(world: World, issuer: IssuerCalls) -> None:
    def has_seal(p: Person) -> bool:
        with world.registry.db.transaction() as tx:
            return tx.fetch_live_seal(p.id) is not None

    person = world.claim(lambda p: world.ordinary(p) and has_seal(p))
    card = world.enrol(person)
    world.registry.events.deregister_seal(person_id=person.id)
    world.clock.advance(dt.timedelta(seconds=1))
    error, tx = await _refused(world, issuer, card, "inkan")
    assert error.to_body() == GENERIC
    assert _reason(world, JUKI, tx) == "no_live_seal"


async def test_a_register_with_a_pending_filing_is_refused(world: World, issuer: IssuerCalls) -> None:
    pending = {
        m.person_id for r in world.registers if r.pending_filings for m in r.members if m.person_id and not m.removed_on
    }
    person = world.claim(lambda p: adult_resident(p) and p.id in pending)
    error, tx = await _refused(world, issuer, person, "koseki-zenbu", instance=KOSEKI)
    assert error.to_body() == GENERIC
    assert _reason(world, KOSEKI, tx) == "register_pending_filing"


async def test_honseki_basis_needs_a_use_registration(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(lambda p: world.ordinary(p) and world.register_of(p) is not None)
    error, tx = await _refused(
        world, issuer, person, "koseki-zenbu", instance=KOSEKI, basis=Basis.HONSEKI, expected=CardNotRegisteredError
    )
    assert "利用登録" in error.text_ja
    assert _reason(world, KOSEKI, tx) == "honseki_not_registered"


async def test_honseki_basis_with_a_use_registration_issues_the_register(world: World, issuer: IssuerCalls) -> None:
    def plain(register: KosekiRegister) -> bool:
        return not register.pending_filings and not any(
            m.person_id is not None and world.person(m.person_id).support_measure for m in register.members
        )

    register = next(r for r in world.registers if plain(r) and any(m.removed_on is None for m in r.members))
    member = next(m for m in register.members if m.removed_on is None)
    if member.person_id is not None:
        world.claimed.add(member.person_id)
    card = world.foreign_card()  # lives in Kodaira, 本籍 in Nishitokyo
    world.registry.events.register_honseki_use(serial=card.serial, koseki_member_id=member.id, register_id=register.id)
    submission, _key = sign(world.dep, card, kind="koseki-zenbu", basis=Basis.HONSEKI)
    answer = await issuer.issue(submission, instance=KOSEKI)
    assert answer.document_serial.startswith("K229-")
    with pytest.raises(KindNotServedError):  # 本籍地 gives family-register certificates only
        await issuer.issue(sign(world.dep, card, kind="juminhyo", basis=Basis.HONSEKI)[0], instance=JUKI)


async def test_a_card_of_another_city_is_not_registered_here(world: World, issuer: IssuerCalls) -> None:
    error, tx = await _refused(world, issuer, world.foreign_card(), "juminhyo-kisai", expected=CardNotRegisteredError)
    assert error.code == "card_not_registered"
    assert _reason(world, JUKI, tx) == "card_not_registered"


@pytest.mark.parametrize(
    "change",
    [
        {"copies": 2},
        {"kind": "juminhyo"},
        {"options": {"show_individual_number": True}},
        {"kiosk_id": "aozora-kodaira-1"},
    ],
    ids=["copies", "kind", "options", "kiosk"],
)
async def test_a_request_altered_after_signing_fails_verification(
    change: dict[str, Any], world: World, issuer: IssuerCalls
) -> None:
    person = world.claim(lambda p: world.ordinary(p))
    submission, _key = sign(world.dep, world.enrol(person), kind="juminhyo-kisai")
    tampered = submission.model_copy(update={"request": submission.request.model_copy(update=change)})
    with pytest.raises(VerificationError):
        await issuer.issue(tampered)
    store = world.log_store(JUKI)
    try:
        assert store.count_entries(transaction_id=submission.request.transaction_id) == 0
    finally:
        store.dispose()


async def test_a_revoked_card_is_refused_as_soon_as_the_crl_changes(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(lambda p: world.ordinary(p))
    card = world.enrol(person)
    first, _ = sign(world.dep, card, kind="juminhyo-kisai")
    await issuer.issue(first)
    revoke_card(world.dep, card.serial, "keyCompromise")
    with pytest.raises(VerificationError, match="revoked"):
        await issuer.issue(sign(world.dep, card, kind="juminhyo-kisai")[0])


async def test_only_the_current_fiscal_year_and_known_options(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(lambda p: world.ordinary(p))
    card = world.enrol(person)
    last_year = fiscal_year_on(TODAY) - 1
    for kind, options in [
        ("kazei", {"fiscal_year": last_year}),
        ("juminhyo", {"members": [99]}),
        ("juminhyo", {"show_resident_code": True}),
        ("juminhyo", {"self_only": 1}),
        ("inkan", {"members": [0]}),
    ]:
        error, _tx = await _refused(world, issuer, card, kind, expected=ValidationError, options=options)
        assert error.code == "invalid_input"


async def test_misrouted_requests_are_refused_before_anything_else(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(lambda p: world.ordinary(p))
    card = world.enrol(person)
    await _refused(world, issuer, card, "juminhyo-kisai", expected=WrongCityError, city=OTHER_CITY)
    await _refused(world, issuer, card, "koseki-zenbu", expected=KindNotServedError, instance=JUKI)
    await _refused(world, issuer, card, "juminhyo", expected=KindNotServedError, instance=KOSEKI)


async def test_a_name_too_wide_for_its_box_fails_without_quoting_it(world: World, issuer: IssuerCalls) -> None:
    person = world.claim(lambda p: adult_resident(p) and world.household_ok(p) and not fits_name_box(p))
    error, tx = await _refused(world, issuer, person, "juminhyo-kisai", expected=NotPrintableError)
    assert error.code == "field_too_long"
    for part in (person.name.family, person.name.given):
        assert part not in error.text_en
        assert part not in error.text_ja
    store = world.log_store(JUKI)
    try:
        entry = store.fetch_entry(tx)
    finally:
        store.dispose()
    assert entry is not None
    assert entry.status.value == "failed"
    assert entry.envelope is None
