"""The synthetic city: deterministic for a seed, realistic in shape, and holding every case the issuer must meet."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from faker.providers.person.ja_JP import Provider as JaJp
from sqlalchemy import select

from yakuba.registry import (
    EventRefusedError,
    RegistryDatabase,
    ResidentStatus,
    UnknownCityError,
    check_juminhyo_code,
    check_my_number,
    generate_city,
)
from yakuba.registry.generate import KNOWN_CITIES
from yakuba.registry.store import METADATA

AS_OF = dt.date(2025, 11, 26)
LOADED_AT = dt.datetime(2025, 11, 26, 1, 0, tzinfo=dt.UTC)
RESIDENTS = 300
LONG_NAME_CHARS = 30
"""A name box on a certificate holds about 20 full-width characters; 30+ half-width letters overflow it."""
KATAKANA = re.compile(r"^[\u30A0-\u30FF]+$")


def _generate(path: Path, seed: int, residents: int = RESIDENTS) -> RegistryDatabase:
    db = RegistryDatabase.from_url(f"sqlite:///{path}")
    db.migrate()
    generate_city(db, city_code="132292", residents=residents, seed=seed, as_of=AS_OF, loaded_at=LOADED_AT)
    return db


def _digest(db: RegistryDatabase) -> str:
    h = hashlib.sha256()
    with db.engine.connect() as conn:
        for name, table in sorted(METADATA.tables.items()):
            order = [c for c in table.primary_key.columns] or list(table.columns)
            for row in conn.execute(select(table).order_by(*order)):
                h.update(repr((name, tuple(row))).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryDatabase]:
    db = _generate(tmp_path_factory.mktemp("city") / "registry.sqlite3", seed=42)
    yield db
    db.dispose()


def _rows(db: RegistryDatabase, table: str) -> list[dict[str, object]]:
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(METADATA.tables[table])).mappings()]


def test_same_seed_same_city_other_seed_other_city(city: RegistryDatabase, tmp_path: Path) -> None:
    again = _generate(tmp_path / "again.sqlite3", seed=42)
    other = _generate(tmp_path / "other.sqlite3", seed=43)
    try:
        assert _digest(again) == _digest(city)
        assert _digest(other) != _digest(city)
    finally:
        again.dispose()
        other.dispose()


def test_every_edge_case_is_present(city: RegistryDatabase) -> None:
    persons = _rows(city, "persons")
    current = [p for p in persons if ResidentStatus(str(p["status"])).is_current]
    assert len(current) >= RESIDENTS
    assert any(AS_OF.year - p["birth_date"].year < 15 for p in current)  # type: ignore[attr-defined]
    assert any(p["support_measure"] for p in current)
    assert any(p["status"] == ResidentStatus.MOVED_OUT.value for p in persons)
    assert any(p["status"] == ResidentStatus.DECEASED.value for p in persons)
    filed = [p for p in persons if p["status"] == ResidentStatus.MOVE_OUT_FILED.value]
    assert filed
    assert all(p["move_out_planned_on"] > AS_OF for p in filed)  # type: ignore[operator]
    assert any(p["former_surname"] for p in current)
    assert any(len(f"{p['family_name']} {p['given_name']}") >= LONG_NAME_CHARS for p in current)
    assert any(s["status"] == "deregistered" for s in _rows(city, "seal_registrations"))
    assert any(f["completed_on"] is None for f in _rows(city, "koseki_filings"))
    members = _rows(city, "koseki_members")
    assert any(m["person_id"] is None for m in members)  # people living elsewhere whose 本籍 is here
    assert any(str(p["honseki"] or "").startswith("東京都小平市") for p in current)  # 本籍 elsewhere
    assert any(p["nationality"] != "JP" for p in current)


def test_realistic_shape(city: RegistryDatabase) -> None:
    persons = [p for p in _rows(city, "persons") if ResidentStatus(str(p["status"])).is_current]
    ages = [AS_OF.year - p["birth_date"].year for p in persons]  # type: ignore[attr-defined]
    under_15 = sum(a < 15 for a in ages) / len(ages)
    over_65 = sum(a >= 65 for a in ages) / len(ages)
    assert 0.05 < under_15 < 0.2
    assert 0.12 < over_65 < 0.4
    households = _rows(city, "households")
    assert 1.7 < len(persons) / len(households) < 2.8
    towns = {t for t, _ in KNOWN_CITIES["132292"].towns}
    assert {h["town"] for h in households} <= towns
    assert all(h["city"] == "西東京市" for h in households)


def test_names_carry_their_readings_and_numbers_their_check_digits(city: RegistryDatabase) -> None:
    surnames = {kanji: kana for (kanji, kana, _r) in JaJp.last_name_pairs}
    given = {k: kana for k, kana, _r in (*JaJp.first_name_male_pairs, *JaJp.first_name_female_pairs)}
    for p in _rows(city, "persons"):
        check_my_number(str(p["my_number"]))
        check_juminhyo_code(str(p["juminhyo_code"]))
        if p["nationality"] == "JP":
            assert surnames[str(p["family_name"])] == p["family_name_kana"]
            assert given[str(p["given_name"])] == p["given_name_kana"]
            assert KATAKANA.match(str(p["given_name_kana"]))
        else:
            assert p["family_name_kana"] is None
            assert str(p["family_name"]).isascii()


def test_tax_snapshot_is_as_of_the_day_before(city: RegistryDatabase) -> None:
    (snapshot,) = _rows(city, "tax_snapshots")
    assert snapshot["as_of"] == AS_OF - dt.timedelta(days=1)
    rows = _rows(city, "tax_snapshot_rows")
    assert {r["fiscal_year"] for r in rows} == {2024, 2025}
    assert any(r["exempt"] for r in rows)
    assert any(r["income_based_tax"] > 0 for r in rows)  # type: ignore[operator]


def test_unknown_city_and_non_empty_registry_are_refused(city: RegistryDatabase, tmp_path: Path) -> None:
    empty = RegistryDatabase.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    empty.migrate()
    with pytest.raises(UnknownCityError, match="999999"):
        generate_city(empty, city_code="999999", residents=10, seed=1, as_of=AS_OF, loaded_at=LOADED_AT)
    assert sum(empty.count_rows().values()) == 0
    empty.dispose()
    before = city.count_rows()
    with pytest.raises(EventRefusedError, match="already holds"):
        generate_city(city, city_code="132292", residents=10, seed=1, as_of=AS_OF, loaded_at=LOADED_AT)
    assert city.count_rows() == before


def test_generates_on_every_backend(db: RegistryDatabase) -> None:
    summary = generate_city(db, city_code="132110", residents=120, seed=5, as_of=AS_OF, loaded_at=LOADED_AT)
    assert summary.residents >= 120
    counts = db.count_rows()
    assert counts["persons"] == summary.rows["persons"]
    with db.transaction() as tx:  # ids continue after the loaded ones (PostgreSQL sequences were moved on)
        tx.insert_household(address=tx.fetch_person(1).address, created_on=AS_OF)
