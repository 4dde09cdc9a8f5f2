"""Every life event and its effect: the change, its history row, card revocation through the PKI seam, seals."""

from __future__ import annotations

import datetime as dt

import pytest

from yakuba.clock import FixedClock
from yakuba.registry import (
    CardStatus,
    EventRefusedError,
    KosekiEventKind,
    LifeEvents,
    PersonName,
    PersonNotFoundError,
    RegisterStatus,
    RegistryDatabase,
    ResidentStatus,
    SealStatus,
    Sex,
    check_juminhyo_code,
    check_my_number,
)
from yakuba.registry._seal_image import draw_impression

from .registry_testdata import ELSEWHERE, RecordingRevoker, address, family, new_person

SEAL = draw_impression("山田")


def _events_of(db: RegistryDatabase, aggregate: str, aggregate_id: object) -> list[str]:
    with db.transaction() as tx:
        return [h.event for h in tx.fetch_history(aggregate=aggregate, aggregate_id=str(aggregate_id))]


def _card(events: LifeEvents, person_id: int, serial: str) -> None:
    events.issue_card(person_id=person_id, serial=serial, fingerprint="ab" * 32)


def test_move_in_puts_a_person_on_the_register_with_valid_numbers(events: LifeEvents, db: RegistryDatabase) -> None:
    person = events.move_in(
        new_person("山田", "太郎", Sex.MALE, dt.date(1980, 4, 1)),
        address=address(),
        moved_in_on=dt.date(2025, 11, 26),
        previous_address=ELSEWHERE,
    )
    check_juminhyo_code(person.juminhyo_code)
    check_my_number(person.my_number)
    assert person.status is ResidentStatus.RESIDENT
    assert person.relationship == "世帯主"
    assert person.previous_address == ELSEWHERE
    assert _events_of(db, "person", person.id) == ["moved_in"]
    with db.transaction() as tx:
        assert tx.fetch_household_view(person.household_id).head == person


def test_move_within_moves_the_household_and_revokes_every_card(
    events: LifeEvents, db: RegistryDatabase, revoker: RecordingRevoker
) -> None:
    husband, wife = family(events)
    _card(events, husband.id, "00000000000000A1")
    _card(events, wife.id, "00000000000000A2")
    new = address("緑町", 1, 2, 3)
    events.move_within(person_id=husband.id, address=new, moved_on=dt.date(2025, 11, 20))
    with db.transaction() as tx:
        for p in (tx.fetch_person(husband.id), tx.fetch_person(wife.id)):
            assert p.address == new
            assert p.previous_address == address()
            assert p.address_since == dt.date(2025, 11, 20)
            assert tx.fetch_active_cards(p.id) == ()
        assert tx.fetch_card("00000000000000A1").status is CardStatus.REVOKED  # type: ignore[union-attr]
        fuhyo = tx.fetch_register_address_history(husband.koseki_register_id or 0)
    assert sorted(revoker.calls) == [("00000000000000A1", "address_changed"), ("00000000000000A2", "address_changed")]
    assert "moved_within" in _events_of(db, "person", husband.id)
    assert "card_revoked" in _events_of(db, "card", "00000000000000A1")
    assert [e.address for e in fuhyo if e.member_id == fuhyo[0].member_id][-1] == new


def test_move_within_alone_makes_a_new_household(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, wife = family(events)
    moved = events.move_within(
        person_id=wife.id, address=address("谷戸町"), moved_on=dt.date(2025, 11, 1), whole_household=False
    )
    assert moved.household_id != husband.household_id
    assert moved.relationship == "世帯主"
    with pytest.raises(EventRefusedError, match="current one"):
        events.move_within(person_id=husband.id, address=husband.address, moved_on=dt.date(2025, 11, 2))


def test_file_move_out_marks_the_household_pending(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, _wife = family(events)
    events.file_move_out(person_id=husband.id, planned_on=dt.date(2025, 12, 5), destination=ELSEWHERE)
    with db.transaction() as tx:
        view = tx.fetch_household_for_certificate(husband.id)
        person = tx.fetch_person(husband.id)
    assert view.has_pending_move_out
    assert person.status is ResidentStatus.MOVE_OUT_FILED
    assert person.move_out_planned_on == dt.date(2025, 12, 5)
    assert _events_of(db, "person", husband.id)[-1] == "move_out_filed"


def test_move_out_ends_seal_and_card_and_leaves_the_household(
    events: LifeEvents, db: RegistryDatabase, revoker: RecordingRevoker
) -> None:
    husband, wife = family(events)
    events.register_seal(person_id=wife.id, impression_png=SEAL)
    _card(events, wife.id, "00000000000000B1")
    events.file_move_out(person_id=wife.id, planned_on=dt.date(2025, 12, 1), destination=ELSEWHERE)
    gone = events.move_out(person_id=wife.id, moved_out_on=dt.date(2025, 12, 1))
    assert gone.status is ResidentStatus.MOVED_OUT
    assert gone.move_out_destination == ELSEWHERE
    assert revoker.calls == [("00000000000000B1", "moved_out")]
    with db.transaction() as tx:
        assert tx.fetch_live_seal(wife.id) is None
        assert [s.status for s in tx.fetch_seals_of_person(wife.id)] == [SealStatus.DEREGISTERED]
        view = tx.fetch_household_view(husband.household_id)
    assert [m.id for m in view.members] == [husband.id]
    assert [m.id for m in view.removed_members] == [wife.id]
    assert "moved_out" in _events_of(db, "person", wife.id)


def test_death_removes_the_record_and_is_refused_twice(
    events: LifeEvents, db: RegistryDatabase, revoker: RecordingRevoker
) -> None:
    husband, _wife = family(events)
    events.register_seal(person_id=husband.id, impression_png=SEAL)
    _card(events, husband.id, "00000000000000C1")
    dead = events.death(person_id=husband.id, died_on=dt.date(2025, 11, 24), filed_on=dt.date(2025, 11, 25))
    assert dead.status is ResidentStatus.DECEASED
    assert revoker.calls == [("00000000000000C1", "deceased")]
    with db.transaction() as tx:
        assert tx.fetch_live_seal(husband.id) is None
        assert tx.fetch_household(husband.household_id).head_person_id is None
        register = tx.fetch_register(husband.koseki_register_id or 0)
    member = next(m for m in register.members if m.person_id == husband.id)
    assert member.removed_on == dt.date(2025, 11, 24)
    assert member.events[-1].kind is KosekiEventKind.DEATH
    before = db.count_rows()
    with pytest.raises(EventRefusedError, match="deceased"):
        events.death(person_id=husband.id, died_on=dt.date(2025, 11, 24), filed_on=dt.date(2025, 11, 25))
    assert db.count_rows() == before


def test_seal_is_read_live_and_deregistered_a_second_ago_is_not_certifiable(
    events: LifeEvents, db: RegistryDatabase, clock: FixedClock
) -> None:
    husband, _wife = family(events)
    seal = events.register_seal(person_id=husband.id, impression_png=SEAL)
    assert seal.is_live
    assert seal.impression_png == SEAL
    with db.transaction() as tx:
        assert tx.fetch_live_seal(husband.id) == seal
    events.deregister_seal(person_id=husband.id)
    clock.advance(dt.timedelta(seconds=1))
    with db.transaction() as tx:
        assert tx.fetch_live_seal(husband.id) is None
        (old,) = tx.fetch_seals_of_person(husband.id)
    assert old.status is SealStatus.DEREGISTERED
    assert old.deregistered_at == clock.now() - dt.timedelta(seconds=1)
    assert _events_of(db, "seal", seal.registration_number) == ["seal_registered", "seal_deregistered"]


def test_seal_refusals_write_nothing(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, _wife = family(events)
    child = events.birth(
        new_person("山田", "一郎", Sex.MALE, dt.date(2015, 1, 1)), parent_id=husband.id, filed_on=dt.date(2015, 1, 5)
    )
    before = db.count_rows()
    with pytest.raises(EventRefusedError, match="no registered seal"):
        events.deregister_seal(person_id=husband.id)
    with pytest.raises(EventRefusedError, match="15"):
        events.register_seal(person_id=child.id, impression_png=SEAL)
    with pytest.raises(EventRefusedError):
        events.register_seal(person_id=husband.id, impression_png=b"not a png")
    assert db.count_rows() == before
    events.register_seal(person_id=husband.id, impression_png=SEAL)
    with pytest.raises(EventRefusedError, match="already"):
        events.register_seal(person_id=husband.id, impression_png=SEAL)


def test_marriage_makes_a_register_here_and_changes_one_surname(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, wife = family(events)
    assert wife.name.family == "山田"
    assert wife.former_surname == "佐藤"
    assert husband.koseki_register_id is not None
    assert husband.koseki_register_id == wife.koseki_register_id
    with db.transaction() as tx:
        register = tx.fetch_register(husband.koseki_register_id)
        fuhyo = tx.fetch_register_address_history(register.id)
    assert register.hittosha == "山田　太郎"
    assert register.status is RegisterStatus.CURRENT
    assert [m.relationship for m in register.members] == ["筆頭者", "妻"]
    assert register.members[1].events[0].kind is KosekiEventKind.MARRIAGE
    assert register.members[1].events[0].counterpart == "山田　太郎"
    assert len(fuhyo) == 2
    assert "married" in _events_of(db, "person", wife.id)


def test_name_change_revokes_the_card_and_keeps_the_former_surname(
    events: LifeEvents, db: RegistryDatabase, revoker: RecordingRevoker
) -> None:
    husband, _wife = family(events)
    _card(events, husband.id, "00000000000000D1")
    new = PersonName(family="鈴木", given="太郎", family_kana="スズキ", given_kana="タロウ")
    changed = events.change_name(
        person_id=husband.id, name=new, changed_on=dt.date(2025, 11, 26), register_former_surname=True
    )
    assert changed.name == new
    assert changed.former_surname == "山田"
    assert revoker.calls == [("00000000000000D1", "name_changed")]
    with db.transaction() as tx:
        register = tx.fetch_register(husband.koseki_register_id or 0)
    assert register.members[0].name == new
    assert register.members[0].events[-1].kind is KosekiEventKind.NAME_CHANGE


def test_birth_joins_household_and_register(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, wife = family(events)
    first = events.birth(
        new_person("山田", "一郎", Sex.MALE, dt.date(2022, 3, 3)), parent_id=wife.id, filed_on=dt.date(2022, 3, 10)
    )
    second = events.birth(
        new_person("山田", "次郎", Sex.MALE, dt.date(2024, 3, 3)), parent_id=husband.id, filed_on=dt.date(2024, 3, 10)
    )
    assert first.household_id == husband.household_id
    assert first.relationship == "子"
    with db.transaction() as tx:
        register = tx.fetch_register(husband.koseki_register_id or 0)
    children = [m for m in register.members if m.person_id in (first.id, second.id)]
    assert [m.relationship for m in children] == ["長男", "二男"]
    assert children[0].father == "山田　太郎"
    assert children[0].mother == "山田　花子"
    assert children[0].events[0].kind is KosekiEventKind.BIRTH
    assert _events_of(db, "person", first.id) == ["born"]


def test_support_measure_on_and_off(events: LifeEvents, db: RegistryDatabase) -> None:
    _husband, wife = family(events)
    assert events.set_support_measure(person_id=wife.id, on=True).support_measure
    before = db.count_rows()
    with pytest.raises(EventRefusedError):
        events.set_support_measure(person_id=wife.id, on=True)
    assert db.count_rows() == before
    assert not events.set_support_measure(person_id=wife.id, on=False).support_measure
    assert _events_of(db, "person", wife.id)[-2:] == ["support_measure_on", "support_measure_off"]


def test_card_issue_supersedes_and_revoke(events: LifeEvents, db: RegistryDatabase, revoker: RecordingRevoker) -> None:
    husband, _wife = family(events)
    _card(events, husband.id, "00000000000000E1")
    _card(events, husband.id, "00000000000000E2")
    assert revoker.calls == [("00000000000000E1", "superseded")]
    with db.transaction() as tx:
        assert tx.fetch_person_by_card_serial("00000000000000E2").id == husband.id
        with pytest.raises(PersonNotFoundError):
            tx.fetch_person_by_card_serial("00000000000000E1")  # superseded: revoked
    assert events.revoke_card(person_id=husband.id, reason="lost") == ("00000000000000E2",)
    before = db.count_rows()
    with pytest.raises(EventRefusedError, match="no active card"):
        events.revoke_card(person_id=husband.id, reason="lost")
    assert db.count_rows() == before


def test_a_failing_revocation_rolls_the_whole_event_back(
    events: LifeEvents, db: RegistryDatabase, revoker: RecordingRevoker
) -> None:
    husband, _wife = family(events)
    _card(events, husband.id, "00000000000000F1")
    before = db.count_rows()
    revoker.fail = True
    with pytest.raises(RuntimeError):
        events.move_within(person_id=husband.id, address=address("緑町"), moved_on=dt.date(2025, 11, 26))
    assert db.count_rows() == before
    with db.transaction() as tx:
        assert tx.fetch_person(husband.id).address == address()
        assert tx.fetch_card("00000000000000F1").status is CardStatus.ACTIVE  # type: ignore[union-attr]


def test_unknown_person_is_a_clear_error_and_writes_nothing(events: LifeEvents, db: RegistryDatabase) -> None:
    family(events)
    before = db.count_rows()
    with pytest.raises(PersonNotFoundError, match="no person with id 999"):
        events.death(person_id=999, died_on=dt.date(2025, 11, 1), filed_on=dt.date(2025, 11, 2))
    with pytest.raises(PersonNotFoundError):
        events.move_out(person_id=999, moved_out_on=dt.date(2025, 11, 1), destination=ELSEWHERE)
    assert db.count_rows() == before


def test_events_for_a_moved_out_person_are_refused(events: LifeEvents, db: RegistryDatabase) -> None:
    _husband, wife = family(events)
    events.move_out(person_id=wife.id, moved_out_on=dt.date(2025, 11, 1), destination=ELSEWHERE)
    before = db.count_rows()
    for call in (
        lambda: events.move_out(person_id=wife.id, moved_out_on=dt.date(2025, 11, 2)),
        lambda: events.death(person_id=wife.id, died_on=dt.date(2025, 11, 2), filed_on=dt.date(2025, 11, 2)),
        lambda: events.register_seal(person_id=wife.id, impression_png=SEAL),
        lambda: events.issue_card(person_id=wife.id, serial="00000000000000AA", fingerprint="x"),
    ):
        with pytest.raises(EventRefusedError, match="moved out"):
            call()
    assert db.count_rows() == before


def test_change_head_after_the_head_died(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, wife = family(events)
    child = events.birth(
        new_person("山田", "一郎", Sex.MALE, dt.date(2010, 1, 1)), parent_id=wife.id, filed_on=dt.date(2010, 1, 5)
    )
    events.death(person_id=husband.id, died_on=dt.date(2025, 11, 1), filed_on=dt.date(2025, 11, 2))
    with pytest.raises(EventRefusedError, match="every other member"):
        events.change_head(
            household_id=wife.household_id, new_head_id=wife.id, relationships={}, changed_on=dt.date(2025, 11, 3)
        )
    events.change_head(
        household_id=wife.household_id,
        new_head_id=wife.id,
        relationships={child.id: "子"},
        changed_on=dt.date(2025, 11, 3),
    )
    with db.transaction() as tx:
        view = tx.fetch_household_view(wife.household_id)
    assert view.head is not None
    assert view.head.id == wife.id
    assert view.head.relationship == "世帯主"
    assert "head_changed" in _events_of(db, "household", wife.household_id)


def test_pending_filing_and_honseki_use_registration(events: LifeEvents, db: RegistryDatabase) -> None:
    husband, wife = family(events)
    register_id = husband.koseki_register_id or 0
    events.accept_filing(register_id=register_id, kind=KosekiEventKind.BIRTH, filed_on=dt.date(2025, 11, 25))
    with db.transaction() as tx:
        register = tx.fetch_register(register_id)
    assert [f.kind for f in register.pending_filings] == [KosekiEventKind.BIRTH]
    member = register.members[1]
    events.register_honseki_use(serial="00000000000000AB", koseki_member_id=member.id, register_id=register_id)
    with db.transaction() as tx:
        use = tx.fetch_honseki_use("00000000000000AB")
    assert use is not None
    assert use.koseki_member_id == member.id
    before = db.count_rows()
    with pytest.raises(EventRefusedError, match="already registered"):
        events.register_honseki_use(serial="00000000000000AB", koseki_member_id=member.id, register_id=register_id)
    assert db.count_rows() == before
    assert wife.id == member.person_id
