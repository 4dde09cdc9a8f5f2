"""`yakuba registry ...` and `yakuba card ...` on a sample deployment, with the real PKI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from yakuba.cli import _card, _registry
from yakuba.config import Deployment, write_sample
from yakuba.errors import CardLockedError, WrongPinError
from yakuba.pki import init_pki, is_revoked, load_crl
from yakuba.pki.card import VirtualCardReader
from yakuba.registry import EventRefusedError, PersonNotFoundError, UnknownCityError
from yakuba.registry.store import METADATA, RegistryDatabase

CITY = "132292"
runner = CliRunner()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Deployment]:
    folder = tmp_path_factory.mktemp("dep") / "deployment"
    dep = write_sample(folder)
    init_pki(dep)
    result = runner.invoke(
        _registry.app,
        ["generate", "--city", CITY, "--residents", "200", "--seed", "3", "--as-of", "2025-11-26", "-d", str(folder)],
    )
    assert result.exit_code == 0, result.output
    assert "residents in" in result.output
    return folder, dep


def _resident(dep: Deployment, *, offset: int = 0) -> int:
    db = RegistryDatabase.for_city(dep, CITY)
    persons = METADATA.tables["persons"]
    with db.engine.connect() as conn:
        query = select(persons.c.id).where(persons.c.status == "resident", persons.c.relationship == "世帯主")
        ids = [int(i) for (i,) in conn.execute(query.order_by(persons.c.id))]
    db.dispose()
    return ids[10 + offset]


def _counts(dep: Deployment) -> dict[str, int]:
    db = RegistryDatabase.for_city(dep, CITY)
    try:
        return db.count_rows()
    finally:
        db.dispose()


def test_show_and_find(deployment: tuple[Path, Deployment]) -> None:
    folder, dep = deployment
    person = _resident(dep)
    shown = runner.invoke(_registry.app, ["show-person", "--city", CITY, "--person", str(person), "-d", str(folder)])
    assert shown.exit_code == 0, shown.output
    assert "resident" in shown.output
    assert "世帯主" in shown.output
    found = runner.invoke(_registry.app, ["find", "--city", CITY, "--name", "ア", "-d", str(folder)])
    assert found.exit_code == 0, found.output
    assert "found" in found.output


def test_bad_input_is_a_clear_error_and_writes_nothing(deployment: tuple[Path, Deployment]) -> None:
    folder, dep = deployment
    before = _counts(dep)
    unknown = runner.invoke(_registry.app, ["generate", "--city", "999999", "--residents", "5", "-d", str(folder)])
    assert isinstance(unknown.exception, UnknownCityError)
    missing = runner.invoke(_registry.app, ["event", "death", "--city", CITY, "--person", "987654", "-d", str(folder)])
    assert isinstance(missing.exception, PersonNotFoundError)
    wrong_city = runner.invoke(_registry.app, ["show-person", "--city", "111111", "--person", "1", "-d", str(folder)])
    assert isinstance(wrong_city.exception, UnknownCityError)
    assert _counts(dep) == before


def test_death_twice_is_refused(deployment: tuple[Path, Deployment]) -> None:
    folder, dep = deployment
    person = _resident(dep, offset=1)
    args = ["event", "death", "--city", CITY, "--person", str(person), "--on", "2025-11-20", "-d", str(folder)]
    first = runner.invoke(_registry.app, args)
    assert first.exit_code == 0, first.output
    before = _counts(dep)
    second = runner.invoke(_registry.app, args)
    assert isinstance(second.exception, EventRefusedError)
    assert "deceased" in str(second.exception)
    assert _counts(dep) == before


def test_seal_register_and_deregister(deployment: tuple[Path, Deployment]) -> None:
    folder, dep = deployment
    person = _resident(dep, offset=2)
    base = ["--city", CITY, "--person", str(person), "-d", str(folder)]
    runner.invoke(_registry.app, ["event", "seal-deregister", *base])  # a generated seal may exist; start clean
    assert runner.invoke(_registry.app, ["event", "seal-register", *base]).exit_code == 0
    assert runner.invoke(_registry.app, ["event", "seal-deregister", *base]).exit_code == 0
    again = runner.invoke(_registry.app, ["event", "seal-deregister", *base])
    assert isinstance(again.exception, EventRefusedError)


def test_card_issue_binds_and_an_address_change_revokes_on_the_crl(deployment: tuple[Path, Deployment]) -> None:
    folder, dep = deployment
    person = _resident(dep, offset=3)
    issued = runner.invoke(_card.app, ["issue", "--city", CITY, "--person", str(person), "-d", str(folder)])
    assert issued.exit_code == 0, issued.output
    assert "one-time PIN" in issued.output
    card_path = Path(issued.output.split(" written to ")[1].split()[0])
    # A random name: nothing in it is derived from the person (an id of a few digits may occur in hex by chance).
    assert re.fullmatch(r"card-[0-9a-f]{12}\.card", card_path.name), card_path.name
    with VirtualCardReader.open(dep, path=card_path) as reader:
        serial = reader.serial
    db = RegistryDatabase.for_city(dep, CITY)
    with db.transaction() as tx:
        binding = tx.fetch_card(serial)
    db.dispose()
    assert binding is not None
    assert binding.person_id == person
    assert not is_revoked(load_crl(dep), serial=serial)
    moved = runner.invoke(
        _registry.app,
        ["event", "move-within", "--city", CITY, "--person", str(person), "--town", "緑町", "--chome", "2",
         "--ban", "9", "--go", "9", "-d", str(folder)],
    )  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert is_revoked(load_crl(dep), serial=serial)


def test_card_issue_for_a_deceased_person_makes_no_card(deployment: tuple[Path, Deployment], tmp_path: Path) -> None:
    folder, dep = deployment
    person = _resident(dep, offset=4)
    runner.invoke(_registry.app, ["event", "death", "--city", CITY, "--person", str(person), "-d", str(folder)])
    out = tmp_path / "x.card"
    refused = runner.invoke(
        _card.app, ["issue", "--city", CITY, "--person", str(person), "--out", str(out), "-d", str(folder)]
    )
    assert isinstance(refused.exception, EventRefusedError)
    assert not out.exists()


def test_reset_pin_unlocks_a_locked_card(deployment: tuple[Path, Deployment]) -> None:
    folder, dep = deployment
    person = _resident(dep, offset=5)
    issued = runner.invoke(_card.app, ["issue", "--city", CITY, "--person", str(person), "-d", str(folder)])
    assert issued.exit_code == 0, issued.output
    card_path = Path(issued.output.split(" written to ")[1].split()[0])
    pin = issued.output.rsplit(":", 1)[1].strip()
    wrong = "0000" if pin != "0000" else "1111"
    with VirtualCardReader.open(dep, path=card_path) as reader:
        reader.select_jpki_ap()
        for _ in range(2):
            with pytest.raises(WrongPinError):
                reader.verify_pin(wrong)
        with pytest.raises(CardLockedError):
            reader.verify_pin(wrong)
        assert reader.pin_tries_left() == 0
    reset = runner.invoke(_card.app, ["reset-pin", str(card_path), "--city", CITY, "-d", str(folder)])
    assert reset.exit_code == 0, reset.output
    with VirtualCardReader.open(dep, path=card_path) as reader:
        reader.select_jpki_ap()
        assert reader.pin_tries_left() == 3
        reader.verify_pin(pin)
