"""The registry's life events go on the city's tamper-evident audit log in the same transaction, and only they."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from yakuba.audit import load_subject_secret, open_deployment_log, subject_key, verify_log
from yakuba.clock import FixedClock
from yakuba.config import Deployment, write_sample
from yakuba.pki import init_pki
from yakuba.registry import EventRefusedError, generate_city, open_city_registry, registry_log_name

CITY = "132292"
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    dep = write_sample(tmp_path_factory.mktemp("audit-trail") / "dep")
    init_pki(dep)
    reg = open_city_registry(dep, CITY, clock=FixedClock(NOW))
    generate_city(reg.db, city_code=CITY, residents=60, seed=7, as_of=NOW.date(), loaded_at=NOW)
    return dep


def _a_resident_without_support(dep: Deployment) -> int:
    reg = open_city_registry(dep, CITY, clock=FixedClock(NOW))
    with reg.db.transaction() as tx:
        for person in tx.find_persons(text="", limit=200):
            if person.status.value == "resident" and not person.support_measure:
                return person.id
    raise AssertionError("the generated city has no plain resident")


def test_a_life_event_and_its_audit_entry_commit_together(deployment: Deployment) -> None:
    reg = open_city_registry(deployment, CITY, clock=FixedClock(NOW))
    log = open_deployment_log(deployment, registry_log_name(CITY), with_signer=True)
    before = log.log.pending_count()
    person = _a_resident_without_support(deployment)
    reg.events.set_support_measure(person_id=person, on=True)
    assert log.log.pending_count() == before + 1
    log.integrator().integrate_pending()
    secret = load_subject_secret(key_dir=deployment.key_dir, log_name=registry_log_name(CITY))
    mine = log.log.entries_for_subject(subject_key(secret, "person", str(person)))
    assert [e.event_type for e in mine][-1] == "registry.support_measure_on"
    report = verify_log(log.log.engine, log_key=log.verifier)
    assert report.entries >= 1


def test_a_refused_event_leaves_no_audit_entry(deployment: Deployment) -> None:
    reg = open_city_registry(deployment, CITY, clock=FixedClock(NOW))
    log = open_deployment_log(deployment, registry_log_name(CITY))
    person = _a_resident_without_support(deployment)
    before = log.log.pending_count() + log.log.tree_state().size
    with pytest.raises(EventRefusedError):
        reg.events.set_support_measure(person_id=person, on=False)  # it is not on: refused
    after = log.log.pending_count() + log.log.tree_state().size
    assert after == before


def test_audit_entries_carry_no_personal_detail(deployment: Deployment, tmp_path: Path) -> None:
    log = open_deployment_log(deployment, registry_log_name(CITY), with_signer=True)
    log.integrator().integrate_pending()
    reg = open_city_registry(deployment, CITY, clock=FixedClock(NOW))
    with reg.db.transaction() as tx:
        people = tx.find_persons(text="", limit=50)
    bodies = " ".join(e.entry.canonical_bytes().decode() for e in log.log.entries(limit=1000))
    assert bodies
    for person in people:
        assert person.name.family not in bodies
        assert str(person.my_number) not in bodies
